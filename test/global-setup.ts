import { execFileSync } from 'node:child_process';
import { staleness } from './helpers/build-freshness.js';

/**
 * Tests that spawn child processes run the built package: build it once. `ATOMIZE_SKIP_BUILD=1` (CI
 * built already) skips the build only while dist/ is fresh: a stale one would let those tests pass
 * against old code, so it is rebuilt.
 */
export default function setup(): void {
  if (process.env.ATOMIZE_SKIP_BUILD === '1') {
    const stale = staleness(process.cwd());
    if (stale === null) return;
    process.stderr.write(`global setup: ATOMIZE_SKIP_BUILD=1, but dist/ is stale (${stale}): building it again\n`);
  }
  execFileSync(process.execPath, ['scripts/build-quick.mjs'], { stdio: 'inherit' });
}
