// After tsup: `require('alova-atomize/storage-file')` (and storage-redis) returns the adapter class
// itself, as alova documents for its own adapters; the class carries itself as the static properties
// `default` and its own name, so `require(...).FileStorageAdapter` works as well. The .d.cts says so.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const entries = { 'storage-file': 'FileStorageAdapter', 'storage-redis': 'RedisStorageAdapter' };
const footer = (name) =>
  `\nmodule.exports = Object.assign(exports.default, { default: exports.default, ${name}: exports.default });\n`;

for (const [dir, name] of Object.entries(entries)) {
  const js = `dist/${dir}/index.cjs`;
  const source = readFileSync(js, 'utf8');
  if (!source.includes(footer(name))) writeFileSync(js, source + footer(name));
  const dts = `dist/${dir}/index.d.cts`;
  if (!existsSync(dts) || readFileSync(dts, 'utf8').includes('export =')) continue;
  const kept = readFileSync(dts, 'utf8')
    .split('\n')
    .filter((line) => !line.startsWith('export '));
  const wrapper = [
    `/** The adapter class; \`.default\` and \`.${name}\` are the class itself. */`,
    `declare class CommonJSExport extends ${name} {`,
    '  static readonly default: typeof CommonJSExport;',
    `  static readonly ${name}: typeof CommonJSExport;`,
    '}',
    'export = CommonJSExport;',
  ];
  writeFileSync(dts, `${kept.join('\n').trimEnd()}\n\n${wrapper.join('\n')}\n`);
}
