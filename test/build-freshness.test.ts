import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILD_INPUTS, builtEntries, staleness } from './helpers/build-freshness.js';

const roots: string[] = [];
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

const exportsMap = {
  '.': { import: { types: './dist/index.d.ts', default: './dist/index.js' }, require: { default: './dist/index.cjs' } },
  './server': { import: { default: './dist/server/index.js' }, require: { default: './dist/server/index.cjs' } },
  './package.json': './package.json',
};

/** A project with sources at time 1000 s and, when `built`, every exported entry at time 2000 s. */
const project = (built = true): string => {
  const root = mkdtempSync(join(tmpdir(), 'atomize-freshness-'));
  roots.push(root);
  const write = (path: string, at: number): void => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), '');
    utimesSync(join(root, path), at, at);
  };
  writeFileSync(join(root, 'package.json'), JSON.stringify({ exports: exportsMap }));
  utimesSync(join(root, 'package.json'), 1000, 1000);
  for (const source of ['src/index.ts', 'src/server/deep/atomize.ts', 'tsup.config.ts']) write(source, 1000);
  if (built) for (const entry of ['dist/index.js', 'dist/index.cjs', 'dist/server/index.js', 'dist/server/index.cjs']) write(entry, 2000);
  return root;
};

describe('dist/ freshness (global setup with ATOMIZE_SKIP_BUILD=1)', () => {
  it("reads the built entries from package.json's exports", () => {
    expect(builtEntries(project())).toEqual(['dist/index.cjs', 'dist/index.js', 'dist/server/index.cjs', 'dist/server/index.js']);
  });

  it('is fresh when every entry is newer than every source', () => {
    expect(staleness(project())).toBeNull();
  });

  it('is stale when an entry is missing', () => {
    expect(staleness(project(false))).toBe('dist/index.cjs is missing');
    const root = project();
    rmSync(join(root, 'dist/server/index.cjs'));
    expect(staleness(root)).toBe('dist/server/index.cjs is missing');
  });

  it("counts package.json's bin as an entry", () => {
    const root = project();
    const pkg = join(root, 'package.json');
    writeFileSync(pkg, JSON.stringify({ exports: exportsMap, bin: { 'alova-atomize': './dist/cli.js' } }));
    utimesSync(pkg, 1000, 1000);
    expect(builtEntries(root)).toContain('dist/cli.js');
    expect(staleness(root)).toBe('dist/cli.js is missing');
  });

  it('is stale when a source anywhere under src/ changed after the oldest entry was built', () => {
    const root = project();
    utimesSync(join(root, 'src/server/deep/atomize.ts'), 3000, 3000);
    expect(staleness(root)).toBe('src changed after dist/ was built');
  });

  it('is stale when a new source file appeared, or the build configuration changed', () => {
    const added = project();
    writeFileSync(join(added, 'src/server/deep/new.ts'), ''); // now: newer than the entries of 2000 s
    expect(staleness(added)).toBe('src changed after dist/ was built');
    const configured = project();
    utimesSync(join(configured, 'tsup.config.ts'), 3000, 3000);
    expect(staleness(configured)).toBe('tsup.config.ts changed after dist/ was built');
  });

  it('compares with the oldest entry, not the newest', () => {
    const root = project();
    utimesSync(join(root, 'dist/index.js'), 500, 500);
    expect(staleness(root)).toBe('src changed after dist/ was built');
  });

  it('covers the sources and the build scripts', () => {
    expect(BUILD_INPUTS).toEqual(expect.arrayContaining(['src', 'tsup.config.ts', 'scripts/build-quick.mjs', 'scripts/cjs-default.mjs']));
  });
});
