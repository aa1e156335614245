/**
 * Fencing tokens end to end, on both adapters with real processes: strictly increasing in the order
 * the upstream serves the holders (under contention, across fair handoffs), above a SIGKILLed
 * holder's token after a takeover (Redis: expired lease; file: stale lock), and on Redis above the
 * last token after a restart that lost every key. The tokens travel in a real HTTP header.
 */
import { createAlova } from 'alova';
import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { atomize } from '../../src/server/index.js';
import { LockerConfigError } from '../../src/shared/errors.js';
import { FileStorageAdapter } from '../../src/storage-file/index.js';
import { RedisStorageAdapter } from '../../src/storage-redis/index.js';
import { startRedis, startRedisGroup, stopAll, type RedisServer } from '../helpers/redis-servers.js';
import { runWorkers } from '../helpers/run-workers.js';
import { cleanup, spawnFixture, tempDir } from '../storage-file/helpers.js';
import { optionsOf, uniquePrefix } from '../storage-redis/setup.js';

let redis: RedisServer;
let upstream: Server;
let url: string;
const seen: Array<{ channel: string; token: string; start: number }> = [];

beforeAll(async () => {
  redis = await startRedis();
  upstream = createServer((req, res) => {
    const params = new URL(req.url!, 'http://x').searchParams;
    seen.push({ channel: params.get('channels')!, token: String(req.headers['x-fencing-token']), start: performance.now() });
    setTimeout(() => res.end('{}'), Number(params.get('ms') ?? 0));
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(upstream.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
  await redis?.stop();
  cleanup();
});

const backends = {
  redis: () => ({ adapter: 'redis' as const, adapterOptions: { ...optionsOf(redis.url), keyPrefix: uniquePrefix('tokens'), redlockTTL: 1000 } }),
  file: () => ({ adapter: 'file' as const, adapterOptions: { directory: tempDir('tokens'), lockerOptions: { stale: 2000 } } }),
};

const tokenLine = async (child: ReturnType<typeof spawnFixture>): Promise<number> =>
  Number((await child.line((line) => line.startsWith('token '))).slice('token '.length));

describe.each(['redis', 'file'] as const)('%s adapter: fencing tokens', (kind) => {
  it('strictly increase in the order the upstream serves four contending processes', async () => {
    const channel = `contended-${kind}`;
    const config = { ...backends[kind](), url, jobs: [{ channel, count: 8 }], ms: 3, timeout: 30_000, atomizeOptions: { fencingHeader: 'x-fencing-token' }, startAt: Date.now() + 1500 };
    const results = await runWorkers([config, config, config, config]);
    expect(results.map((result) => result.errors)).toEqual([[], [], [], []]);
    const tokens = seen.filter((entry) => entry.channel === channel).sort((a, b) => a.start - b.start).map((entry) => Number(entry.token));
    expect(tokens).toHaveLength(32);
    for (const token of tokens) expect(Number.isSafeInteger(token)).toBe(true);
    for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1]!);
  });

  it('a takeover of a killed holder’s lock gets a higher token', async () => {
    const channel = `takeover-${kind}`;
    const { adapterOptions } = backends[kind]();
    const holder =
      kind === 'redis'
        ? spawnFixture('redis-holder.mjs', { adapterOptions, channel, printToken: true })
        : spawnFixture('file-holder.mjs', { ...(adapterOptions as object), channel, holdMs: 60_000, printToken: true });
    const killedToken = await tokenLine(holder);
    holder.process.kill('SIGKILL');
    await holder.exited;
    const adapter = kind === 'redis' ? new RedisStorageAdapter(adapterOptions as object) : new FileStorageAdapter(adapterOptions as { directory: string });
    let handle = null;
    for (let i = 0; i < 400 && !handle; i++) {
      handle = await adapter.locker.tryAcquire(channel);
      if (!handle) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(handle).not.toBeNull();
    expect(handle!.token).toBeGreaterThan(killedToken);
    await handle!.release();
    await adapter.close();
  });
});

describe('redis adapter: fencing tokens across a restart', () => {
  it('a restart without persistence loses every key, and the next token is still higher', async () => {
    const keyPrefix = uniquePrefix('restart');
    const before = new RedisStorageAdapter({ ...optionsOf(redis.url), keyPrefix });
    const first = await before.locker.tryAcquire('r');
    const firstToken = first!.token!;
    await first!.release();
    await before.close();
    await redis.restart();
    const after = new RedisStorageAdapter({ ...optionsOf(redis.url), keyPrefix });
    const second = await after.locker.tryAcquire('r');
    expect(second!.token).toBeGreaterThan(firstToken);
    await second!.release();
    await after.close();
  });
});

describe('redis quorum: no fencing tokens', () => {
  it('gives handles without a token, and a fencingHeader call fails at once with LockerConfigError', async () => {
    const servers = await startRedisGroup(3);
    const adapter = new RedisStorageAdapter({ quorum: servers.map((server) => server.url), keyPrefix: uniquePrefix('quorum') });
    try {
      const handle = await adapter.locker.tryAcquire('q');
      expect(handle).not.toBeNull();
      expect(handle!.token).toBeUndefined();
      await handle!.release();
      const alova = createAlova({ cacheFor: null, l2Cache: adapter, requestAdapter: () => ({ response: async () => ({}), headers: async () => ({}), abort: () => undefined }) });
      await expect(atomize(alova.Get('/x'), { channel: 'q', fencingHeader: 'x-fencing-token' }).send()).rejects.toBeInstanceOf(LockerConfigError);
      // And the channel was released: a plain call goes through.
      await atomize(alova.Get('/x'), { channel: 'q', timeout: 0 }).send();
    } finally {
      await adapter.close();
      await stopAll(servers);
    }
  });
});

describe('file adapter: tokens when the token file is lost between grants', () => {
  it('every grant of one process gets a higher token, also within one millisecond of the last', async () => {
    const directory = tempDir('fence-lost');
    const adapter = new FileStorageAdapter({ directory });
    const fence = join(directory, 'fences', 'e-c.fence');
    const tokens: number[] = [];
    for (let i = 0; i < 40; i++) {
      const handle = (await adapter.locker.tryAcquire('c'))!;
      tokens.push(handle.token!);
      await handle.release();
      rmSync(fence, { force: true }); // lost: only the clock (millisecond steps) and this process remain
    }
    for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1]!);
    await adapter.close();
  });
});
