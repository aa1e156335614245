/**
 * The `alova-atomize` bin, built (dist/cli.js), run as a user runs it (process.execPath, no shell):
 * `inspect` against a real redis-server and a real directory, on a channel held by another process with
 * a waiter in line, and on a free one, as a table and as JSON; and bad input, each case one line on
 * stderr and exit code 1, also for a backend that cannot be reached.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WaitTicket } from '../../src/shared/contract.js';
import { FileStorageAdapter } from '../../src/storage-file/index.js';
import { RedisStorageAdapter } from '../../src/storage-redis/index.js';
import { freePort, startRedis, type RedisServer } from '../helpers/redis-servers.js';
import { runNode } from '../helpers/run-node.js';
import { cleanup, spawnFixture, tempDir, type Child } from '../storage-file/helpers.js';

const cli = (...args: string[]) => runNode(['dist/cli.js', ...args], { limit: 30_000 });

const newTicket = (): WaitTicket & { end: () => void } => {
  const ending = new AbortController();
  return { id: randomUUID(), signal: ending.signal, interval: 1000, end: () => ending.abort() };
};

let redis: RedisServer;
const children: Child[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const child of children) child.process.kill('SIGKILL');
  await redis?.stop();
  cleanup();
});

/** A child process that holds `channel` until killed; resolves its fencing token. */
const holdIn = async (fixture: string, config: object): Promise<number> => {
  const child = spawnFixture(fixture, { ...config, printToken: true });
  children.push(child);
  await child.line((line) => line === 'locked');
  return Number((await child.line((line) => line.startsWith('token '))).slice('token '.length));
};

/** The rows of a table the CLI printed: its header, then one array of cells per channel. */
const tableOf = (stdout: string): string[][] =>
  stdout
    .trimEnd()
    .split('\n')
    .map((line) => line.split(/ {2,}/));

describe('alova-atomize inspect --redis', () => {
  it('shows a channel held by another process, with a waiter in line, and a free one', async () => {
    const token = await holdIn('redis-holder.mjs', { adapterOptions: { host: redis.host, port: redis.port }, channel: 'stock:42' });
    const waiter = new RedisStorageAdapter({ host: redis.host, port: redis.port });
    const ticket = newTicket();
    try {
      expect(await waiter.locker.tryAcquire('stock:42', ticket)).toBeNull();
      const json = await cli('inspect', '--redis', redis.url, '--json', 'stock:42', 'free');
      expect(json).toMatchObject({ code: 0, stderr: '' });
      const [held, free] = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
      expect(held).toMatchObject({ channel: 'stock:42', held: true, token });
      expect(held!.holder).toEqual(expect.any(String));
      expect(held!.expiresInMs).toBeGreaterThan(0);
      expect(held!.expiresInMs).toBeLessThanOrEqual(5000);
      expect(held!.waiters).toBeGreaterThanOrEqual(1);
      expect(free).toEqual({ channel: 'free', held: false, waiters: 0 });

      const table = await cli('inspect', '--redis', redis.url, 'stock:42', 'free');
      expect(table).toMatchObject({ code: 0, stderr: '' });
      const [header, first, second] = tableOf(table.stdout);
      expect(header).toEqual(['CHANNEL', 'HELD', 'HOLDER', 'EXPIRES IN', 'WAITERS', 'TOKEN']);
      expect(first).toEqual(['stock:42', 'yes', held!.holder, expect.stringMatching(/^\d+ ms$/), String(held!.waiters), String(token)]);
      expect(second).toEqual(['free', 'no', '-', '-', '0', '-']);
    } finally {
      ticket.end();
      await waiter.close();
    }
  });

  it('reads the keys of another --prefix', async () => {
    const token = await holdIn('redis-holder.mjs', { adapterOptions: { host: redis.host, port: redis.port, keyPrefix: 'shop:' }, channel: 'cart' });
    const mine = await cli('inspect', '--redis', redis.url, '--prefix', 'shop:', '--json', 'cart');
    expect(JSON.parse(mine.stdout)).toMatchObject([{ channel: 'cart', held: true, token }]);
    const theirs = await cli('inspect', '--redis', redis.url, '--json', 'cart');
    expect(JSON.parse(theirs.stdout)).toEqual([{ channel: 'cart', held: false, waiters: 0 }]);
  });
});

describe('alova-atomize inspect --dir', () => {
  it('shows a channel held by another process, with a waiter in line, and a free one', async () => {
    const directory = tempDir('cli');
    const token = await holdIn('file-holder.mjs', { directory, channel: 'report', holdMs: 600_000 });
    const waiter = new FileStorageAdapter({ directory });
    const ticket = newTicket();
    try {
      expect(await waiter.locker.tryAcquire('report', ticket)).toBeNull();
      const json = await cli('inspect', '--dir', directory, '--json', 'report', 'free');
      expect(json).toMatchObject({ code: 0, stderr: '' });
      const [held, free] = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
      expect(held).toMatchObject({ channel: 'report', held: true, waiters: 1, token });
      expect(held!.expiresInMs).toBeGreaterThan(0);
      expect(held!.expiresInMs).toBeLessThanOrEqual(6000);
      expect(free).toEqual({ channel: 'free', held: false, waiters: 0 });

      const table = await cli('inspect', '--dir', directory, 'report', 'free');
      expect(table).toMatchObject({ code: 0, stderr: '' });
      expect(tableOf(table.stdout)).toEqual([
        ['CHANNEL', 'HELD', 'HOLDER', 'EXPIRES IN', 'WAITERS', 'TOKEN'],
        ['report', 'yes', '-', expect.stringMatching(/^\d+ ms$/), '1', String(token)],
        ['free', 'no', '-', '-', '0', '-'],
      ]);
      // --stale: a lock renewed every second is held for 60 s more by a patient judge.
      const patient = await cli('inspect', '--dir', directory, '--stale', '60000', '--json', 'report');
      expect(JSON.parse(patient.stdout)[0].expiresInMs).toBeGreaterThan(50_000);
    } finally {
      ticket.end();
      await waiter.close();
    }
  });

  it('escapes control characters of a channel in the table', async () => {
    const directory = tempDir('cli-escape');
    const { stdout, code } = await cli('inspect', '--dir', directory, 'a\u001b[31mb', 'c\u009bd');
    expect(code).toBe(0);
    expect(stdout).toContain('"a\\u001b[31mb"');
    expect(stdout).toContain('"c\\u009bd"');
    expect([...stdout].filter((char) => char !== '\n' && (char < ' ' || (char >= '\u007f' && char <= '\u009f')))).toEqual([]);
  });
});

describe('alova-atomize: help and bad input', () => {
  it('--help prints the usage on stdout and exits 0', async () => {
    for (const args of [['--help'], ['inspect', '-h']]) {
      const { code, stdout, stderr } = await cli(...args);
      expect(code).toBe(0);
      expect(stderr).toBe('');
      expect(stdout).toMatch(/^Usage: alova-atomize inspect \(--redis URL \| --dir DIR\) \[--prefix P\] \[--stale MS\] \[--json\] CHANNEL\.\.\.\n/);
    }
  });

  it('says what is wrong in one line on stderr, prints nothing else, and exits 1', async () => {
    const directory = tempDir('cli-bad');
    const file = join(directory, 'a-file');
    writeFileSync(file, '');
    const refused = `redis://127.0.0.1:${await freePort()}`;
    const cases: Array<[string[], RegExp]> = [
      [[], /missing command/],
      [['status', '--dir', directory, 'x'], /unknown command "status"/],
      [['inspect', '--dir', directory, '--verbose', 'x'], /Unknown option '--verbose'/],
      [['inspect', '--dir'], /--dir/],
      [['inspect', 'x'], /exactly one of --redis URL and --dir DIR/],
      [['inspect', '--redis', redis.url, '--dir', directory, 'x'], /exactly one of --redis URL and --dir DIR/],
      [['inspect', '--dir', directory], /missing channel/],
      [['inspect', '--dir', directory, ''], /non-empty/],
      [['inspect', '--dir', directory, '--prefix', 'p:', 'x'], /--prefix is for --redis only/],
      [['inspect', '--redis', redis.url, '--stale', '100', 'x'], /--stale is for --dir only/],
      [['inspect', '--dir', directory, '--stale', 'soon', 'x'], /--stale expects a positive number/],
      [['inspect', '--redis', 'http://127.0.0.1:6379', 'x'], /--redis expects a URL redis:\/\//],
      [['inspect', '--redis', redis.url, '--prefix', '', 'x'], /keyPrefix/],
      [['inspect', '--redis', refused, 'x'], /^alova-atomize: cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+\/?: connect ECONNREFUSED/],
      [['inspect', '--dir', join(directory, 'missing'), 'x'], /no such directory/],
      [['inspect', '--dir', join(directory, 'two\nlines'), 'x'], /two lines: no such directory/],
      [['inspect', '--dir', file, 'x'], /is not a directory/],
    ];
    for (const [args, message] of cases) {
      const { code, stdout, stderr } = await cli(...args);
      const where = `alova-atomize ${args.join(' ')}`;
      expect(code, where).toBe(1);
      expect(stdout, where).toBe('');
      expect(stderr, where).toMatch(/^alova-atomize: [^\n]+\n$/);
      expect(stderr, where).toMatch(message);
    }
  });

  it('names a refused password without printing it', async () => {
    const guarded = await startRedis({ password: 'right' });
    try {
      const cases: Array<[string, RegExp]> = [
        [`redis://:secret@127.0.0.1:${guarded.port}`, /^alova-atomize: cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/?: WRONGPASS/],
        [guarded.url, /^alova-atomize: cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+\/?: NOAUTH/],
      ];
      for (const [url, message] of cases) {
        const { code, stdout, stderr } = await cli('inspect', '--redis', url, 'x');
        expect(code).toBe(1);
        expect(stdout).toBe('');
        expect(stderr).toMatch(/^alova-atomize: [^\n]+\n$/);
        expect(stderr).toMatch(message);
        expect(stderr).not.toContain('secret');
      }
      const right = await cli('inspect', '--redis', `redis://:right@127.0.0.1:${guarded.port}`, '--json', 'x');
      expect(right).toMatchObject({ code: 0, stderr: '' });
    } finally {
      await guarded.stop();
    }
  });

  it('gives up on a Redis that does not answer (stopped) within its bound, and exits', async () => {
    const stopped = await startRedis();
    stopped.pause();
    try {
      const { code, stdout, stderr, ms } = await cli('inspect', '--redis', stopped.url, 'x');
      expect(code).toBe(1);
      expect(stdout).toBe('');
      expect(stderr).toMatch(/^alova-atomize: cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+\/?: no answer within 3000 ms\n$/);
      expect(ms).toBeLessThan(15_000);
    } finally {
      await stopped.stop();
    }
  });
});
