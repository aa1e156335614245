/**
 * Every code block of README.md and docs/*.md, as written (issue 14). Each fenced block is one of:
 *
 * - **a program** (```js, ```mjs, ```cjs, ```ts): run with node, no shell, in a temp folder whose
 *   node_modules holds `alova-atomize` (a link to this repository, whose dist/ the global setup builds)
 *   and a link to every package of the repository's node_modules (alova, ioredis, ...). `js`, `mjs`
 *   and `ts` run as ES modules (.mjs), `cjs` as CommonJS (.cjs); so does a `js` block that uses
 *   `require()` and no `import`. `ts` blocks have their types stripped by TypeScript's
 *   `transpileModule` and are not type-checked here (the quick build of the tests has no declarations;
 *   test/package.test.ts type-checks consumers of the packed package). Environment: `REDIS_URL`, a
 *   redis-server started by this test, and `API_URL`, a local HTTP server that answers every request
 *   with JSON. Each must exit by itself with code 0 and nothing on stderr (the bound only catches hangs).
 * - **a fragment**, marked by `<!-- snippet: fragment -->` on the line before its fence: code that
 *   builds on what surrounds it (an `alova` made above, a request handler's `req`). It must parse
 *   (`node --check`, as ESM or CommonJS by the rules above), and is not run.
 * - **not code to run**: a block tagged with another language (`sh`, `text`, `sql`, `diff`, ...). Counted.
 *
 * An untagged block, or a marker this test does not know, fails: nothing is skipped silently.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from './helpers/redis-servers.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const PAGES = ['README.md', ...readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md')).sort().map((name) => `docs/${name}`)];
const CODE = new Set(['js', 'mjs', 'cjs', 'ts', 'javascript', 'typescript']);
const MARKERS = new Set(['fragment']);
/** A hang bound per program, generous: the machine may be busy. */
const LIMIT_MS = 30_000;

interface Block {
  readonly page: string;
  /** Line of the opening fence, from 1. */
  readonly line: number;
  readonly lang: string;
  readonly marker: string | undefined;
  readonly code: string;
}

/** The fenced blocks of a page, with their language and the marker on the line before them. */
const blocksOf = (page: string): Block[] => {
  const lines = readFileSync(join(root, page), 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,})(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const [, indent, fence, info] = open as unknown as [string, string, string, string];
    const body: string[] = [];
    let end = i + 1;
    for (; end < lines.length && !new RegExp(`^\\s*${fence}\\s*$`).test(lines[end]!); end++) body.push(lines[end]!.slice(indent.length));
    let before = i - 1;
    while (before >= 0 && lines[before]!.trim() === '') before--;
    const marker = before >= 0 ? /^\s*<!--\s*snippet:\s*(\S+)\s*-->\s*$/.exec(lines[before]!)?.[1] : undefined;
    blocks.push({ page, line: i + 1, lang: info.trim().split(/\s+/)[0] ?? '', marker, code: body.join('\n') + '\n' });
    i = end;
  }
  return blocks;
};

const blocks = PAGES.flatMap(blocksOf);
const isCode = (block: Block): boolean => CODE.has(block.lang);
const programs = blocks.filter((block) => isCode(block) && block.marker === undefined);
const fragments = blocks.filter((block) => isCode(block) && block.marker === 'fragment');
const texts = blocks.filter((block) => block.lang !== '' && !isCode(block) && block.marker === undefined);
const nameOf = (block: Block): string => `${block.page}:${block.line} (${block.lang})`;

/** The file a block is written to: CommonJS or an ES module, types stripped. */
const sourceOf = (block: Block): { extension: '.cjs' | '.mjs'; text: string } => {
  const commonjs = block.lang === 'cjs' || (block.lang !== 'mjs' && /\brequire\(/.test(block.code) && !/^\s*(import|export)\s/m.test(block.code));
  if (block.lang !== 'ts' && block.lang !== 'typescript') return { extension: commonjs ? '.cjs' : '.mjs', text: block.code };
  const { outputText } = ts.transpileModule(block.code, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
    reportDiagnostics: false,
  });
  return { extension: '.mjs', text: outputText };
};

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const node = (args: string[], cwd: string, env: Record<string, string>): Promise<Run> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), LIMIT_MS);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });

describe('README.md and docs/*.md code blocks', () => {
  let folder: string;
  let redis: RedisServer;
  let api: Server;
  let env: Record<string, string>;

  beforeAll(async () => {
    // A consumer's folder: the package by its name, and everything the repository has installed.
    folder = mkdtempSync(join(tmpdir(), 'atomize-snippets-'));
    const modules = join(folder, 'node_modules');
    mkdirSync(modules);
    for (const name of readdirSync(join(root, 'node_modules'))) {
      if (name.startsWith('.')) continue;
      symlinkSync(join(root, 'node_modules', name), join(modules, name));
    }
    symlinkSync(root, join(modules, 'alova-atomize'));
    redis = await startRedis();
    api = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json', connection: 'close' }).end(JSON.stringify({ ok: true, method: req.method, url: req.url })));
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    env = {
      PATH: process.env.PATH ?? '',
      HOME: folder,
      REDIS_URL: redis.url,
      API_URL: `http://127.0.0.1:${(api.address() as { port: number }).port}`,
    };
  });

  afterAll(async () => {
    await new Promise((resolve) => (api ? api.close(resolve) : resolve(undefined)));
    await redis?.stop();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  it('every block is a program, a marked fragment or tagged as not code, and every fence is read', () => {
    const fences = PAGES.reduce((count, page) => count + readFileSync(join(root, page), 'utf8').split('\n').filter((line) => /^\s*`{3,}/.test(line)).length, 0);
    expect(fences).toBe(2 * blocks.length);
    expect(blocks.filter((block) => block.lang === '').map(nameOf)).toEqual([]); // tag it: ```text, ```sh, ...
    expect(blocks.filter((block) => block.marker !== undefined && !MARKERS.has(block.marker)).map(nameOf)).toEqual([]);
    expect(blocks.filter((block) => block.marker !== undefined && !isCode(block)).map(nameOf)).toEqual([]);
    expect(programs.length + fragments.length + texts.length).toBe(blocks.length);
    // The pages that show how to start have programs: a page whose examples all became fragments would be a regression.
    for (const page of ['README.md', 'docs/storage-file.md', 'docs/storage-redis.md', 'docs/fencing.md']) {
      expect(programs.filter((block) => block.page === page).length, page).toBeGreaterThan(0);
    }
  });

  it.each(programs.map((block) => [nameOf(block), block] as const))('%s runs, and exits by itself with code 0', async (name, block) => {
    const { extension, text } = sourceOf(block);
    const file = join(folder, `${block.page.replace(/\W/g, '-')}-${block.line}${extension}`);
    writeFileSync(file, text);
    const run = await node([file], folder, env);
    expect(run.stderr, name).toBe('');
    expect(run.code, `${name}: ${run.stdout}`).toBe(0);
  });

  it.each(fragments.map((block) => [nameOf(block), block] as const))('%s (a fragment) parses', async (name, block) => {
    const { extension, text } = sourceOf(block);
    const file = join(folder, `fragment-${block.page.replace(/\W/g, '-')}-${block.line}${extension}`);
    writeFileSync(file, text);
    const run = await node(['--check', file], folder, env);
    expect(run.stderr, name).toBe('');
    expect(run.code, name).toBe(0);
  });

  it.each(texts.map((block) => [nameOf(block)] as const))('%s is not code to run', (name) => {
    expect(name).toMatch(/\((?!js|mjs|cjs|ts)\w+\)$/);
  });
});
