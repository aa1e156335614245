/**
 * `npm run demo` end to end: the demo runs against the built package (global setup builds dist/), in a
 * child process of its own, as a newcomer would run it.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNode, type NodeRun } from './helpers/run-node.js';
import { freePort, startRedis, type RedisServer } from './helpers/redis-servers.js';


type Outcome = NodeRun;

/** Runs `node demo/run.mjs ...args` (no shell), killed after `limit` ms. */
const demo = (args: string[], limit = 45_000): Promise<Outcome> => runNode(['demo/run.mjs', ...args], { limit });

interface Run {
  run: string;
  requests: number;
  processes: number;
  failed: number;
  wrong: number;
  exact: boolean;
  lockWait: { p50: number; max: number } | null;
  stock: { start: number; expected: number; actual: number };
  orders?: { count: number; distinct: number };
}

const resultOf = (outcome: Outcome): { ok: boolean; backend: string; workers: number; requests: number; runs: Run[] } => {
  const lines = outcome.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!);
};

/** The checks every successful run must pass, whatever the lock backend. */
const expectCured = (outcome: Outcome, backend: string): void => {
  expect(outcome.stderr).toBe('');
  expect(outcome.code).toBe(0);
  const result = resultOf(outcome);
  expect(result).toMatchObject({ ok: true, backend, workers: 3, requests: 10 });
  const [open, locked, mixed] = result.runs;
  for (const run of result.runs) expect(run).toMatchObject({ requests: 30, processes: 3, failed: 0 });

  // Without a lock the shop loses updates: its stock ends above the expected 0.
  expect(open).toMatchObject({ run: 'unprotected', exact: false, lockWait: null });
  expect(open!.stock.expected).toBe(0);
  expect(open!.stock.actual).toBeGreaterThan(0);
  expect(open!.wrong).toBe(open!.stock.actual);

  // With atomize: exact.
  expect(locked).toMatchObject({ run: 'atomize', exact: true, wrong: 0, stock: { start: 30, expected: 0, actual: 0 } });
  expect(mixed).toMatchObject({ run: 'mixed', exact: true, wrong: 0, stock: { start: 30, expected: 30, actual: 30 } });
  expect(mixed!.orders).toEqual({ count: 15, distinct: 15 });
  for (const run of [locked!, mixed!]) {
    expect(run.lockWait!.p50).toBeGreaterThanOrEqual(0);
    expect(run.lockWait!.max).toBeGreaterThanOrEqual(run.lockWait!.p50);
  }
};

/** A bad invocation: exit 1, one line on stderr, no stack trace, nothing on stdout. */
const expectOneLineFailure = (outcome: Outcome, pattern: RegExp): void => {
  expect(outcome.code).toBe(1);
  expect(outcome.stdout).toBe('');
  const lines = outcome.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^demo: /);
  expect(lines[0]).toMatch(pattern);
  expect(outcome.stderr).not.toMatch(/\n\s+at /);
};

describe('npm run demo (file locks)', () => {
  it('shows lost updates without a lock and exact numbers with atomize (--json)', async () => {
    expectCured(await demo(['--workers', '3', '--requests', '10', '--json']), 'file');
  });

  it('prints one line per run and a table when stdout is not a terminal, and exits 0', async () => {
    const outcome = await demo(['--workers', '3', '--requests', '10']);
    expect(outcome.stderr).toBe('');
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).not.toContain('\r'); // no live redraws into a pipe
    const lines = outcome.stdout.trimEnd().split('\n');
    expect(lines.length).toBeLessThanOrEqual(14);
    for (const n of [1, 2, 3]) expect(lines.filter((line) => line.startsWith(`[${n}/3]`))).toHaveLength(1);
    expect(lines.find((line) => line.startsWith('[1/3]'))).toMatch(/updates lost/);
    expect(lines.find((line) => line.startsWith('[2/3]'))).toMatch(/stock 30 → 0: exact/);
    expect(lines.find((line) => line.startsWith('[3/3]'))).toMatch(/stock 30 → 30, orders 1–15: exact/);
    const header = lines.find((line) => line.startsWith('run '));
    expect(header).toMatch(/requests\s+processes\s+wrong\s+time\s+lock wait p50\s+max/);
    expect(lines.find((line) => line.startsWith('atomize '))).toMatch(/^atomize\s+30\s+3\s+0\s+\d+\.\d s\s+\d+(\.\d)? ms\s+\d+(\.\d)? ms$/);
    expect(lines[lines.length - 1]).toMatch(/^Without a lock, \d+ of 30 updates were lost; with atomize \(file locks\), none\.$/);
  });

  it('--help describes the options and exits 0', async () => {
    const outcome = await demo(['--help']);
    expect(outcome.code).toBe(0);
    expect(outcome.stderr).toBe('');
    for (const flag of ['--workers', '--requests', '--redis', '--json', '--help']) expect(outcome.stdout).toContain(flag);
  });

  it.each([
    [['--bogus'], /unknown option '--bogus'.*--help/i],
    [['--workers', '0'], /--workers expects a whole number/],
    [['--workers'], /--workers.*argument missing/],
    [['--requests', 'ten'], /--requests expects a whole number/],
    [['--redis', 'http://127.0.0.1:6379'], /--redis expects a URL like redis:\/\//],
    [['stray'], /unexpected argument 'stray'/i],
  ])('%j: one line on stderr, exit 1', async (args, pattern) => {
    expectOneLineFailure(await demo(args), pattern);
  });
});

describe('npm run demo -- --redis', () => {
  let redis: RedisServer;
  let silent: Server;
  let silentPort: number;

  beforeAll(async () => {
    redis = await startRedis();
    // A listener that accepts connections and never answers: the PING deadline must end the wait.
    silent = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.resume(); // reads (and ignores) what comes, so that a closed client ends the connection
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentPort = (silent.address() as { port: number }).port;
  });
  afterAll(async () => {
    await redis?.stop();
    await new Promise((resolve) => silent?.close(resolve));
  });

  it('is exact with Redis locks too, and leaves no key behind', async () => {
    expectCured(await demo(['--redis', redis.url, '--workers', '3', '--requests', '10', '--json']), 'redis');
    const { Redis } = await import('ioredis');
    const client = new Redis(redis.port, '127.0.0.1');
    try {
      expect(await client.keys('alova-atomize-demo:*')).toEqual([]);
    } finally {
      client.disconnect();
    }
  });

  it('an unreachable Redis: one line, exit 1, at once', async () => {
    const port = await freePort();
    const outcome = await demo(['--redis', `redis://127.0.0.1:${port}`]);
    expectOneLineFailure(outcome, new RegExp(`cannot reach Redis at redis://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
    expect(outcome.ms).toBeLessThan(5000);
  });

  it('a server that never answers PING: one line, exit 1, within the 2 s deadline', async () => {
    const outcome = await demo(['--redis', `redis://127.0.0.1:${silentPort}`]);
    expectOneLineFailure(outcome, /no answer to PING within 2 s/);
    expect(outcome.ms).toBeLessThan(6000);
  });

  it('a wrong password: one line, exit 1, the password not shown', async () => {
    const guarded = await startRedis({ password: 'right-password' });
    try {
      const outcome = await demo(['--redis', `redis://:wrong-password@127.0.0.1:${guarded.port}`]);
      expectOneLineFailure(outcome, /cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+: WRONGPASS/);
      expect(outcome.stderr).not.toContain('wrong-password');
    } finally {
      await guarded.stop();
    }
  });
});
