/**
 * Whether dist/ was built from the sources as they are now: the tests that spawn child processes run
 * the built package, and a stale dist/ would let them pass against old code.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** What the build reads: a change to any of them makes dist/ stale. */
export const BUILD_INPUTS = ['src', 'tsup.config.ts', 'scripts/build-quick.mjs', 'scripts/cjs-default.mjs', 'package.json'];

/** The newest modification time of `path` (a file, or every file under a folder); 0 when it is missing. */
const newestMtime = (path: string): number => {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path, { withFileTypes: true }).reduce((newest, entry) => Math.max(newest, newestMtime(join(path, entry.name))), 0);
};

/** Every file of dist/ that package.json exports (its `default` conditions) or runs as a `bin`, relative to `root`. */
export const builtEntries = (root: string): string[] => {
  const { exports, bin } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: unknown; bin?: unknown };
  const found = new Set<string>();
  const walk = (value: unknown): void => {
    if (typeof value === 'string') {
      if (value.startsWith('./dist/') && /\.c?js$/.test(value)) found.add(value.slice(2));
    } else if (value && typeof value === 'object') {
      for (const inner of Object.values(value)) walk(inner);
    }
  };
  walk(exports);
  walk(bin);
  return [...found].sort();
};

/** Why dist/ under `root` cannot be used as it is (an entry missing, or older than a source), or null when it is fresh. */
export const staleness = (root: string): string | null => {
  const entries = builtEntries(root);
  if (entries.length === 0) return 'package.json exports no dist/ entry';
  const missing = entries.find((entry) => !existsSync(join(root, entry)));
  if (missing) return `${missing} is missing`;
  const oldestOutput = Math.min(...entries.map((entry) => statSync(join(root, entry)).mtimeMs));
  const newer = BUILD_INPUTS.find((input) => newestMtime(join(root, input)) > oldestOutput);
  return newer ? `${newer} changed after dist/ was built` : null;
};
