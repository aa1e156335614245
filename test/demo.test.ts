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
  /** The run's duration, ms. */
  ms: number;
  lockWait: { p50: number; max: number } | null;
  stock: { start: number; expected: number; actual: number };
  orders?: { count: number; distinct: number };
  /** GET then PUT runs: the sales (two requests each). */
  sales?: number;
}

/** The fencing stage: a holder frozen past its lease writes late, the shop checks its token. */
interface Fencing {
  lease: number;
  refused: boolean;
  exact: boolean;
  wrong: number;
  stock: { start: number; expected: number; actual: number };
  stalled: { token: number; frozen: number; ok: boolean; error?: string; status: number | null };
  taker: { token: number; waited: number; ok: boolean };
  unchecked: { status: number; stock: { from: number; to: number } } | null;
}

const resultOf = (outcome: Outcome): { ok: boolean; backend: string; workers: number; requests: number; delay: number; runs: Run[]; fencing: Fencing } => {
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
  // Every locked call waited for the lock and measured it; the processes really met at the lock (all
  // of them lock 'stock'): some call waited at least one whole request of another process, which holds
  // the lock over the shop's `delay`. No wait is longer than its run.
  expect(result.delay).toBe(5);
  for (const run of [locked!, mixed!]) {
    expect(run.lockWait!.p50).toBeGreaterThan(0);
    expect(run.lockWait!.max).toBeGreaterThanOrEqual(result.delay);
    expect(run.lockWait!.max).toBeLessThanOrEqual(run.ms);
  }

  // Read, then write back (GET then PUT /stock, 5 sales of 2 requests per process): each request
  // atomized alone still loses sales; one withLock around the pair is exact.
  const [, , , each, block] = result.runs;
  expect(result.runs).toHaveLength(5);
  expect(each).toMatchObject({ run: 'read-write', sales: 15, exact: false, stock: { start: 15, expected: 0 } });
  expect(each!.wrong).toBeGreaterThan(0);
  expect(each!.wrong).toBe(each!.stock.actual);
  expect(block).toMatchObject({ run: 'with-lock', sales: 15, exact: true, wrong: 0, stock: { start: 15, expected: 0, actual: 0 } });

  // Fencing: the stalled holder's late write carries an older token than the one the shop admitted
  // from the holder that took over: refused with 409, the stock exact (one sale). Its own call fails,
  // with the 409 or with LockLostError, whichever it sees first. Unchecked, the shop would have taken it.
  const { fencing } = result;
  expect(fencing).toMatchObject({
    lease: backend === 'file' ? 2000 : 1000,
    refused: true,
    exact: true,
    wrong: 0,
    stock: { start: 10, expected: 9, actual: 9 },
    stalled: { ok: false, status: 409 },
    taker: { ok: true },
    unchecked: { status: 200, stock: { from: 9, to: 8 } },
  });
  expect(fencing.stalled.error).toMatch(/^(LockLostError: |Error: the shop answered HTTP 409$)/);
  // The taker waited for the lease to run out, while the stalled holder stayed frozen.
  expect(fencing.taker.waited).toBeGreaterThan(fencing.lease / 2);
  expect(fencing.stalled.frozen).toBeGreaterThan(fencing.taker.waited);
  expect(fencing.taker.token).toBeGreaterThan(fencing.stalled.token);
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
    expect(lines.length).toBeLessThanOrEqual(26);
    for (const n of [1, 2, 3, 4, 5, 6]) expect(lines.filter((line) => line.startsWith(`[${n}/6]`))).toHaveLength(1);
    expect(lines.find((line) => line.startsWith('[1/6]'))).toMatch(/updates lost/);
    expect(lines.find((line) => line.startsWith('[2/6]'))).toMatch(/stock 30 → 0: exact/);
    expect(lines.find((line) => line.startsWith('[3/6]'))).toMatch(/stock 30 → 30, orders 1–15: exact/);
    expect(lines.find((line) => line.startsWith('[4/6]'))).toMatch(/GET then PUT \/stock, each atomized.*stock ends at \d+, not 0: \d+ updates lost$/);
    expect(lines.find((line) => line.startsWith('[5/6]'))).toMatch(/GET then PUT \/stock, withLock.*stock 15 → 0: exact$/);
    expect(lines.find((line) => line.startsWith('[6/6]'))).toMatch(/stale write refused \(409\), stock 10 → 9: exact$/);
    expect(outcome.stdout).toContain('A woke up and sent its buy with the old token: the shop answered 409.');
    expect(outcome.stdout).toMatch(/A's call failed with (that 409|LockLostError: A saw its lease lost before the answer came)/);
    expect(outcome.stdout).toContain("Without the fence check, the shop would have accepted A's buy: 200, stock 9 → 8.");
    expect(lines.find((line) => line.startsWith('GET+PUT, withLock '))).toMatch(/^GET\+PUT, withLock\s+30\s+3\s+0\s/);
    expect(lines.find((line) => line.startsWith('stalled, fenced '))).toMatch(/^stalled, fenced\s+2\s+2\s+0\s/);
    expect(lines).toContainEqual(expect.stringMatching(/^Read, then write back: with each request atomized alone, \d+ of 15 sales were lost; under one withLock, none\.$/));
    expect(lines[lines.length - 1]).toBe('A holder frozen past its lease wrote late with an old fencing token: the shop refused it (409), the stock stayed exact.');
    const header = lines.find((line) => line.startsWith('run '));
    expect(header).toMatch(/requests\s+processes\s+wrong\s+time\s+lock wait p50\s+max/);
    expect(lines.find((line) => line.startsWith('atomize '))).toMatch(/^atomize\s+30\s+3\s+0\s+\d+\.\d s\s+\d+(\.\d)? ms\s+\d+(\.\d)? ms$/);
    expect(lines).toContainEqual(expect.stringMatching(/^Without a lock, \d+ of 30 updates were lost; with atomize \(file locks\), none\.$/));
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
