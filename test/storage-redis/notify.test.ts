/**
 * Release notifications over a broken subscriber connection: once the connection is back, the adapter
 * subscribes again, and a release wakes its listeners and waiters as before. On a server of this file's
 * own, so that killing every pub/sub connection touches no other test.
 */
import { createAlova } from 'alova';
import adapterFetch from 'alova/fetch';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { atomize } from '../../src/server/index.js';
import type { RedisStorageAdapter } from '../../src/storage-redis/index.js';
import { startInflightServer, type InflightServer } from '../helpers/inflight-server.js';
import { startRedis, type RedisServer } from '../helpers/redis-servers.js';
import { waitFor } from '../helpers/wait.js';
import { LEASE, adapterPool, subscribed, uniquePrefix } from './setup.js';

let server: RedisServer;
let raw: Redis;
let http: InflightServer;
const pool = adapterPool();

beforeAll(async () => {
  [server, http] = await Promise.all([startRedis(), startInflightServer()]);
  raw = new Redis(server.port, server.host);
});
afterAll(async () => {
  await pool.closeAll();
  raw?.disconnect();
  await server?.stop();
  await http?.close();
});

const make = (keyPrefix: string): RedisStorageAdapter => pool.make({ host: server.host, port: server.port, keyPrefix, redlockTTL: LEASE });

/** The ids of the pub/sub connections the server has now. */
const pubsubClients = async (): Promise<Set<string>> => {
  const list = (await raw.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string;
  return new Set([...list.matchAll(/^id=(\d+)/gm)].map((match) => match[1]!));
};

/**
 * Kills every pub/sub connection of the server (as a network fault or a failover would), then waits
 * until a new connection, not one of the killed, is subscribed to `channel` again.
 */
const killSubscribersAndWaitForReturn = async (channel: string): Promise<void> => {
  await subscribed(raw, channel);
  const before = await pubsubClients();
  const killed = Number(await raw.call('CLIENT', 'KILL', 'TYPE', 'pubsub'));
  expect(killed).toBeGreaterThanOrEqual(1);
  await waitFor(async () => {
    const now = await pubsubClients();
    return [...now].some((id) => !before.has(id));
  }, 'a new subscriber connection');
  await subscribed(raw, channel);
};

describe('redis release notifications after a reconnect', () => {
  it('subscribes again once its connection is back: a release reaches the listener', async () => {
    const keyPrefix = uniquePrefix('resub');
    const [listening, holding] = [make(keyPrefix), make(keyPrefix)];
    let heard = 0;
    const off = listening.locker.onRelease!('c', () => heard++);
    await killSubscribersAndWaitForReturn(`${keyPrefix}lock:{c}`);
    const handle = await holding.locker.tryAcquire('c');
    await handle!.release();
    await waitFor(() => heard > 0, 'the release after the reconnect');
    off();
  });

  it('an atomize call waiting across the reconnect is woken by the release, long before its interval', async () => {
    const keyPrefix = uniquePrefix('resub-wait');
    const [waiting, holding] = [make(keyPrefix), make(keyPrefix)];
    const handle = await holding.locker.tryAcquire('w');
    const tries: number[] = [];
    const tryAcquire = waiting.locker.tryAcquire.bind(waiting.locker);
    waiting.locker.tryAcquire = (channel, ticket) => (tries.push(Date.now()), tryAcquire(channel, ticket));
    const alova = createAlova({ baseURL: http.url, requestAdapter: adapterFetch(), l2Cache: waiting, cacheFor: null });
    const call = atomize(alova.Get<{ ok: boolean }>('/work', { params: { channels: 'w', ms: 1 } }), {
      channel: 'w',
      interval: 600_000,
      timeout: 1_200_000,
    }).send();
    await waitFor(() => tries.length === 1, 'the first, refused, attempt');
    await killSubscribersAndWaitForReturn(`${keyPrefix}lock:{w}`);
    await handle!.release();
    // Only a release notification can make it try again: its next poll would come after 10 minutes.
    await waitFor(() => tries.length >= 2, 'the waiter to be woken', 20_000);
    expect((await call).ok).toBe(true);
  });
});
