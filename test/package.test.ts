/**
 * The published package, as users get it: built in full (with declarations) in a copy of the sources
 * (never touching dist/, which other tests run), packed once, installed in two consumer folders, and
 * used through the exports map:
 *
 * - `with-ioredis`: npm's defaults (npm 7+ installs peer dependencies: @sesamecare-oss/redlock's own
 *   ioredis peer brings ioredis even though ours is optional);
 * - `without-ioredis`: `--legacy-peer-deps`, as yarn 1 does: no ioredis.
 *
 * In each, a TypeScript consumer is type-checked for ESM and CommonJS under nodenext, for bundler and
 * for node10, and the entries are run.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repo = resolve('.');
const work = mkdtempSync(join(tmpdir(), 'atomize-package-'));
const npmCli = resolve(process.execPath, '../../lib/node_modules/npm/bin/npm-cli.js');
const npm = (args: string[], cwd: string) => run(process.execPath, [npmCli, ...args], { cwd, encoding: 'utf8', maxBuffer: 16 << 20 });
const node = async (cwd: string, script: string): Promise<string> => (await run(process.execPath, [script], { cwd, encoding: 'utf8' })).stdout;

const VARIANTS = { 'with-ioredis': [], 'without-ioredis': ['--legacy-peer-deps'] } as const;
type Variant = keyof typeof VARIANTS;
const folderOf = (variant: Variant): string => join(work, variant);

/** The TypeScript setups a consumer may have, each with the copy of the consumer it compiles. */
const SETUPS = {
  'ESM, nodenext': { file: 'consumer.mts', compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext' } },
  'CommonJS .cts, nodenext': { file: 'consumer.cts', compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext' } },
  bundler: { file: 'consumer.ts', compilerOptions: { module: 'esnext', moduleResolution: 'bundler' } },
  node10: { file: 'consumer.ts', compilerOptions: { module: 'commonjs', moduleResolution: 'node10', esModuleInterop: true } },
} as const;
type Setup = keyof typeof SETUPS;

const devDependencies = (): Record<string, string> =>
  (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies;

/** `tsc` outcomes, started together once the consumers are installed (they run while other tests do). */
const checks = new Map<string, Promise<{ ok: boolean; output: string }>>();
const compile = (variant: Variant, name: string, file: string, compilerOptions: object, skipLibCheck: boolean) => {
  const key = `${variant} ${name} ${skipLibCheck}`;
  if (!checks.has(key)) {
    const folder = folderOf(variant);
    const config = `tsconfig.${name.replace(/\W+/g, '-')}-${skipLibCheck}.json`;
    writeFileSync(
      join(folder, config),
      JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, target: 'es2022', lib: ['es2022'], types: ['node'], skipLibCheck, ...compilerOptions },
        files: [file],
      }),
    );
    const tsc = join(repo, 'node_modules/typescript/bin/tsc');
    checks.set(
      key,
      run(process.execPath, [tsc, '-p', config], { cwd: folder, encoding: 'utf8' }).then(
        () => ({ ok: true, output: '' }),
        (error: { stdout?: string; message: string }) => ({ ok: false, output: error.stdout || error.message }),
      ),
    );
  }
  return checks.get(key)!;
};
const typeCheck = (variant: Variant, setup: Setup, skipLibCheck: boolean) =>
  compile(variant, setup, SETUPS[setup].file, SETUPS[setup].compilerOptions, skipLibCheck);
/** The README's settings for alova's own `alova/fetch` typings under nodenext (ESM and CommonJS). */
const ALOVA_FETCH = { 'ESM, nodenext': 'alova-fetch.mts', 'CommonJS .cts, nodenext': 'alova-fetch.cts' } as const;
const alovaFetchCheck = (setup: keyof typeof ALOVA_FETCH) =>
  compile('with-ioredis', `alova-fetch ${setup}`, ALOVA_FETCH[setup], SETUPS[setup].compilerOptions, true);

beforeAll(async () => {
  // A full build, declarations included, in a copy: dist/ of the working tree stays as it is.
  const build = join(work, 'build');
  mkdirSync(build);
  for (const path of ['src', 'scripts', 'package.json', 'tsup.config.ts', 'tsconfig.json', 'README.md', 'CHANGELOG.md']) {
    if (existsSync(join(repo, path))) cpSync(join(repo, path), join(build, path), { recursive: true });
  }
  symlinkSync(join(repo, 'node_modules'), join(build, 'node_modules'), 'dir');
  const env = { ...process.env };
  delete env.ATOMIZE_BUILD_NO_DTS;
  await run(process.execPath, ['node_modules/tsup/dist/cli-default.js', '--silent'], { cwd: build, env });
  await run(process.execPath, ['scripts/cjs-default.mjs'], { cwd: build });
  await npm(['pack', '--silent', '--pack-destination', work], build);
  const tarball = join(work, readdirSync(work).find((f) => f.endsWith('.tgz'))!);

  const { alova, '@types/node': typesNode } = devDependencies();
  await Promise.all(
    (Object.entries(VARIANTS) as Array<[Variant, readonly string[]]>).map(async ([variant, flags]) => {
      const folder = folderOf(variant);
      mkdirSync(folder);
      writeFileSync(join(folder, 'package.json'), JSON.stringify({ name: `consumer-${variant}`, private: true }));
      await npm(['install', '--no-audit', '--no-fund', '--prefer-offline', ...flags, tarball, `alova@${alova}`, `@types/node@${typesNode}`], folder);
      const fixtures = join(repo, 'test/fixtures/consumer');
      cpSync(fixtures, folder, { recursive: true, filter: (source) => !source.startsWith(join(fixtures, 'types')) });
      for (const setup of Object.values(SETUPS)) cpSync(join(fixtures, 'types/consumer.ts'), join(folder, setup.file));
      for (const file of Object.values(ALOVA_FETCH)) cpSync(join(fixtures, 'types', file), join(folder, file));
    }),
  );
  for (const variant of Object.keys(VARIANTS) as Variant[]) {
    for (const setup of Object.keys(SETUPS) as Setup[]) {
      void typeCheck(variant, setup, false);
      if (variant === 'without-ioredis') void typeCheck(variant, setup, true);
    }
  }
  for (const setup of Object.keys(ALOVA_FETCH) as Array<keyof typeof ALOVA_FETCH>) void alovaFetchCheck(setup);
}, 300_000);

afterAll(async () => {
  await Promise.allSettled(checks.values());
  rmSync(work, { recursive: true, force: true });
});

describe('the published package, installed with npm defaults', () => {
  const folder = folderOf('with-ioredis');

  it('has ioredis, through @sesamecare-oss/redlock\'s peer dependency (what the README says of npm 7+)', () => {
    expect(existsSync(join(folder, 'node_modules/ioredis/package.json'))).toBe(true);
  });

  it('require()s every entry point; none loads ioredis until a RedisStorageAdapter is made', async () => {
    expect(await node(folder, 'entries.cjs')).toContain('cjs entries ok');
  });

  it('import()s every entry point, with default and named adapter exports', async () => {
    expect(await node(folder, 'entries.mjs')).toContain('esm entries ok');
  });

  it('runs an atomized request from a plain .cjs script with a locker of its own', async () => {
    const result = JSON.parse((await node(folder, 'plain-request.cjs')).trim());
    expect(result).toEqual({ ok: true, most: 1, held: 0 });
  });
});

describe('the published package, installed without ioredis (--legacy-peer-deps, as yarn 1)', () => {
  const folder = folderOf('without-ioredis');

  it('has no ioredis', () => {
    expect(existsSync(join(folder, 'node_modules/ioredis'))).toBe(false);
  });

  it('loads the root entry and runs the file adapter; a RedisStorageAdapter throws a coded error that says to install ioredis', async () => {
    expect(JSON.parse((await node(folder, 'no-ioredis.cjs')).trim())).toEqual({ turns: ['1:number', '2:number', '3:number'], cached: { v: 1 } });
  });
});

describe.each(Object.keys(VARIANTS) as Variant[])('TypeScript consumers (%s)', (variant) => {
  it.each(Object.keys(SETUPS) as Setup[])('%s: every entry, type and error code resolves; misspelt options are type errors (skipLibCheck false)', async (setup) => {
    const { ok, output } = await typeCheck(variant, setup, false);
    expect(output).toBe('');
    expect(ok).toBe(true);
  });
});

describe('TypeScript consumers without ioredis, skipLibCheck true', () => {
  it.each(Object.keys(SETUPS) as Setup[])('%s: the Redis options are still exact (no `any`)', async (setup) => {
    const { ok, output } = await typeCheck('without-ioredis', setup, true);
    expect(output).toBe('');
    expect(ok).toBe(true);
  });
});

describe("alova's own alova/fetch typings under nodenext, with the README's settings", () => {
  it.each(Object.keys(ALOVA_FETCH) as Array<keyof typeof ALOVA_FETCH>)('%s: compiles with skipLibCheck (and a typed require in CommonJS)', async (setup) => {
    const { ok, output } = await alovaFetchCheck(setup);
    expect(output).toBe('');
    expect(ok).toBe(true);
  });
});
