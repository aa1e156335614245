/**
 * What the locks tell observers: diagnostics_channel events (wait, acquire, release, lost, timeout)
 * and the `alova-atomize:send` tracing channel, on a contended run of each adapter (real Redis, real
 * files); and the `NODE_DEBUG=alova-atomize` log of a real child process.
 */
import { createAlova } from 'alova';
import { subscribe, tracingChannel, unsubscribe } from 'node:diagnostics_channel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { atomize, EVENTS } from '../src/server/index.js';
import { LockLostError, LockTimeoutError } from '../src/shared/errors.js';
import { FileStorageAdapter } from '../src/storage-file/index.js';
import { RedisStorageAdapter } from '../src/storage-redis/index.js';
import { sharedRedis } from './helpers/redis-servers.js';
import { cleanup, spawnFixture, tempDir } from './storage-file/helpers.js';
import { optionsOf, uniquePrefix } from './storage-redis/setup.js';

let redis: Awaited<ReturnType<typeof sharedRedis>>;
beforeAll(async () => {
  redis = await sharedRedis();
});
afterAll(async () => {
  await redis?.stop();
  cleanup();
});

type Adapter = RedisStorageAdapter | FileStorageAdapter;
const makers: Record<'redis' | 'file', () => () => Adapter> = {
  redis: () => {
    const keyPrefix = uniquePrefix('events');
    return () => new RedisStorageAdapter({ ...optionsOf(redis.url), keyPrefix });
  },
  file: () => {
    const directory = tempDir('events');
    return () => new FileStorageAdapter({ directory });
  },
};

/** An alova instance on `adapter` whose requests take `ms` in this process (or fail with `fail`). */
const alovaOn = (adapter: Adapter, ms: number, fail?: Error) =>
  createAlova({
    cacheFor: null,
    l2Cache: adapter,
    requestAdapter: () => {
      let timer: NodeJS.Timeout;
      const response = new Promise((resolve, reject) => (timer = setTimeout(() => (fail ? reject(fail) : resolve({ ok: true })), ms)));
      return { response: () => response, headers: async () => ({}), abort: () => clearTimeout(timer) };
    },
  });

/** Records every event of every channel (and the tracing channel's, by kind) while `run` runs. */
const recording = async (run: () => Promise<void>) => {
  const seen: Record<string, Array<Record<string, unknown>>> = {};
  const listeners = (['wait', 'acquire', 'release', 'lost', 'timeout'] as const).map((kind) => {
    const listener = (message: unknown) => (seen[kind] ??= []).push(message as Record<string, unknown>);
    subscribe(EVENTS[kind], listener);
    return [EVENTS[kind], listener] as const;
  });
  const traced: Record<string, number> = {};
  const count = (kind: string) => () => void (traced[kind] = (traced[kind] ?? 0) + 1);
  const handlers = { start: count('start'), end: count('end'), asyncStart: count('asyncStart'), asyncEnd: count('asyncEnd'), error: count('error') };
  const send = tracingChannel(EVENTS.send);
  send.subscribe(handlers);
  try {
    await run();
  } finally {
    for (const [name, listener] of listeners) unsubscribe(name, listener);
    send.unsubscribe(handlers);
  }
  return { seen, traced };
};

describe.each(['redis', 'file'] as const)('%s adapter: diagnostics_channel events', (kind) => {
  it('a contended run publishes wait, acquire and release with their fields, and one traced span per send', async () => {
    const make = makers[kind]();
    const adapters = [make(), make(), make()];
    await Promise.all(adapters.map((adapter) => adapter.get('warm-up'))); // connected before the timed run
    const { seen, traced } = await recording(async () => {
      await Promise.all(adapters.map((adapter) => atomize(alovaOn(adapter, 30).Get('/x'), { channel: 'observed', timeout: 10_000 }).send()));
    });
    expect(seen.acquire).toHaveLength(3);
    expect(seen.release).toHaveLength(3);
    expect(seen.wait!.length).toBeGreaterThanOrEqual(1);
    for (const event of seen.acquire!) {
      expect(event).toMatchObject({ channel: 'observed', waitedMs: expect.any(Number), attempts: expect.any(Number), token: expect.any(Number) });
    }
    // The second waited for one whole request (30 ms), the third for two.
    const waited = seen.acquire!.map((event) => event.waitedMs as number).sort((a, b) => a - b);
    expect(waited[1]).toBeGreaterThanOrEqual(25);
    expect(waited[2]).toBeGreaterThanOrEqual(50);
    for (const event of seen.release!) expect(event).toMatchObject({ channel: 'observed', heldMs: expect.any(Number) });
    expect(seen.release!.every((event) => (event.heldMs as number) >= 25)).toBe(true);
    expect(seen.wait!.every((event) => event.channel === 'observed')).toBe(true);
    expect(traced).toEqual({ start: 3, end: 3, asyncStart: 3, asyncEnd: 3 });
    await Promise.all(adapters.map((adapter) => adapter.close()));
  });

  it('publishes timeout, lost, and the tracing error of a failed send', async () => {
    const make = makers[kind]();
    const [holder, waiter, closing] = [make(), make(), make()];
    const { seen, traced } = await recording(async () => {
      const held = await holder.locker.tryAcquire('t');
      await expect(atomize(alovaOn(waiter, 1).Get('/x'), { channel: 't', timeout: 150, interval: 20 }).send()).rejects.toBeInstanceOf(LockTimeoutError);
      await held!.release();
      const running = atomize(alovaOn(closing, 5000).Get('/x'), { channel: 'l' })
        .send()
        .catch((error: unknown) => error);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await closing.close();
      expect(await running).toBeInstanceOf(LockLostError);
    });
    expect(seen.timeout).toEqual([{ channel: 't', waitedMs: expect.any(Number) }]);
    expect(seen.timeout![0]!.waitedMs as number).toBeGreaterThanOrEqual(150);
    expect(seen.lost).toEqual([{ channel: 'l', error: expect.any(LockLostError) }]);
    expect(traced.error).toBe(2);
    await Promise.all([holder.close(), waiter.close()]);
  });
});

describe('NODE_DEBUG=alova-atomize', () => {
  it('prints one line per wait, acquire and release, with the channel and times', async () => {
    const child = spawnFixture('debug-log.mjs', { directory: tempDir('debug') }, { NODE_DEBUG: 'alova-atomize' });
    const exit = await child.exited;
    expect(exit.code).toBe(0);
    const lines = exit.stderr.split('\n').filter((line) => line.startsWith('ALOVA-ATOMIZE'));
    expect(lines.find((line) => /wait "debugged"/.test(line))).toBeDefined();
    expect(lines.find((line) => /acquire "debugged" after \d+ ms, \d+ attempt\(s\), token \d+/.test(line))).toBeDefined();
    expect(lines.find((line) => /release "debugged" after \d+ ms held/.test(line))).toBeDefined();
  });
});
