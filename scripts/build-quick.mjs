// Builds dist/ quietly and without type declarations, for the tests' global setup, the demo and the
// benchmark (they run JavaScript only): about a second instead of the full `npm run build`.
// Usage: node scripts/build-quick.mjs
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const steps = [
  ['node_modules/tsup/dist/cli-default.js', '--silent'],
  ['scripts/cjs-default.mjs'],
];
for (const args of steps) {
  const { status, error } = spawnSync(process.execPath, args, {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ATOMIZE_BUILD_NO_DTS: '1' },
  });
  if (status !== 0) {
    process.stderr.write(`the build failed (${error?.message ?? `node ${args[0]} exited with ${status}`})\n`);
    process.exit(1);
  }
}
