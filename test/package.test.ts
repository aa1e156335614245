import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** The packed package, installed in a consumer folder of its own, used through the exports map. */
describe('the published package', () => {
  const consumer = mkdtempSync(join(tmpdir(), 'atomize-consumer-'));
  const node = (script: string) => execFileSync(process.execPath, [script], { cwd: consumer, encoding: 'utf8' });

  beforeAll(() => {
    const npmCli = resolve(process.execPath, '../../lib/node_modules/npm/bin/npm-cli.js');
    const npm = (args: string[], cwd: string) => execFileSync(process.execPath, [npmCli, ...args], { cwd, encoding: 'utf8' });
    npm(['pack', '--silent', '--pack-destination', consumer], resolve('.'));
    const tarball = readdirSync(consumer).find((f) => f.endsWith('.tgz'))!;
    const pkg = JSON.parse(execFileSync(process.execPath, ['-p', 'JSON.stringify(require("./package.json").devDependencies)'], { encoding: 'utf8' }));
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
    npm(['install', '--no-audit', '--no-fund', '--prefer-offline', `./${tarball}`, `alova@${pkg.alova}`, `ioredis@${pkg.ioredis}`], consumer);
    cpSync(resolve('test/fixtures/consumer'), consumer, { recursive: true });
  }, 180_000);
  afterAll(() => rmSync(consumer, { recursive: true, force: true }));

  it('require()s every entry point, and server and storage-file load no ioredis', () => {
    expect(node('entries.cjs')).toContain('cjs entries ok');
  });

  it('import()s every entry point, with default and named adapter exports', () => {
    expect(node('entries.mjs')).toContain('esm entries ok');
  });

  it('runs an atomized request from a plain .cjs script with a locker of its own', () => {
    const result = JSON.parse(node('plain-request.cjs').trim());
    expect(result).toEqual({ ok: true, most: 1, held: 0 });
  });
});
