// After tsup: `require('alova-atomize/storage-file')` (and storage-redis) returns the adapter class
// itself, as alova documents for its own adapters; the class carries itself as the static properties
// `default` and its own name, so `require(...).FileStorageAdapter` works as well.
//
// The .d.cts says so with `export =` of the class merged with a namespace that holds the entry's other
// exports (its option types, …): a CommonJS TypeScript file (`.cts`, module nodenext) can then
// `import { FileStorageAdapter, type FileStorageAdapterOptions } from 'alova-atomize/storage-file'`,
// `import FileStorageAdapter = require(...)` or `import FileStorageAdapter from ...`.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const entries = { 'storage-file': 'FileStorageAdapter', 'storage-redis': 'RedisStorageAdapter' };
const footer = (name) =>
  `\nmodule.exports = Object.assign(exports.default, { default: exports.default, ${name}: exports.default });\n`;

/** `a as B` → ['a', 'B']; `B` → ['B', 'B']. */
const specifiers = (list) =>
  list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const [local, exported = local] = s.replace(/^type\s+/, '').split(/\s+as\s+/);
      return [local, exported];
    });

/** The CommonJS declaration of an entry whose default export is the class `name`. */
const commonJsDeclaration = (source, name) => {
  const EXPORT = /^export (?:type )?\{([^}]*)\}(?: from '([^']+)')?;\n?/gm;
  const imports = [];
  const members = []; // [local, exported] of the namespace
  let classLocal;
  for (const [, list, from] of source.matchAll(EXPORT)) {
    for (const [local, exported] of specifiers(list)) {
      if (from) {
        imports.push(`import { ${local} as ${exported}$cjs } from '${from}';`);
        members.push([`${exported}$cjs`, exported]);
      } else if (exported === 'default' || exported === name) {
        if (classLocal && classLocal !== local) throw new Error(`cjs-default: two locals export as the class ${name}`);
        classLocal = local;
      } else members.push([local, exported]);
    }
  }
  if (!classLocal) throw new Error(`cjs-default: no default export of ${name} found`);
  let body = source.replace(EXPORT, '');
  // The class is imported from a chunk under its own name: import it as `${name}$1`, so that the merged
  // class and namespace below can bear the name users see.
  const base = `${name}$1`;
  const renamed = body.replace(new RegExp(`^(import \\{[^}]*\\b\\w+ as )${classLocal}(\\b[^}]*\\} from '[^']+';)$`, 'm'), (_, head, tail) => head + base + tail);
  if (renamed === body) throw new Error(`cjs-default: the class ${name} is not imported from a chunk (unexpected declaration layout)`);
  body = renamed;
  const namespaceExports = members.map(([local, exported]) => (local === exported ? local : `${local} as ${exported}`));
  const wrapper = [
    `/** The adapter class; \`.default\` and \`.${name}\` are the class itself. */`,
    `declare class ${name} extends ${base} {`,
    `  static readonly default: typeof ${name};`,
    `  static readonly ${name}: typeof ${name};`,
    '}',
    `/** The entry's other exports: \`import { ${name}, type ${name}Options } from …\` in a CommonJS TypeScript file. */`,
    `declare namespace ${name} {`,
    `  export type ${name} = ${base};`,
    ...(namespaceExports.length ? [`  export { ${namespaceExports.join(', ')} };`] : []),
    '}',
    `export = ${name};`,
  ];
  return `${[...imports, body.trim()].join('\n')}\n\n${wrapper.join('\n')}\n`;
};

for (const [dir, name] of Object.entries(entries)) {
  const js = `dist/${dir}/index.cjs`;
  const source = readFileSync(js, 'utf8');
  if (!source.includes(footer(name))) writeFileSync(js, source + footer(name));
  const dts = `dist/${dir}/index.d.cts`;
  if (!existsSync(dts) || readFileSync(dts, 'utf8').includes('export =')) continue;
  writeFileSync(dts, commonJsDeclaration(readFileSync(dts, 'utf8'), name));
}
