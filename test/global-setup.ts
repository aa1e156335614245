import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Tests that spawn child processes run the built package: build it once, unless CI already did. */
export default function setup(): void {
  if (process.env.ATOMIZE_SKIP_BUILD === '1' && existsSync('dist/server/index.cjs')) return;
  execFileSync(process.execPath, ['scripts/build-quick.mjs'], { stdio: 'inherit' });
}
