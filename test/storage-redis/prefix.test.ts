/**
 * Key prefixes and Redis Cluster slots: a channel's lock, line and roll keys are used by one script,
 * so they must share a slot. A prefix with an unbalanced `{` or an empty `{}` (the adapter's own, or
 * the client's ioredis keyPrefix before it) would split them: refused at construction. A prefix with
 * a hash tag of its own puts every key in one slot, and works. A real 3-master cluster.
 */
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LockerConfigError } from '../../src/shared/errors.js';
import { RedisStorageAdapter } from '../../src/storage-redis/index.js';
import { startCluster, type RedisCluster } from '../helpers/redis-servers.js';
import { adapterPool } from './setup.js';

let cluster: RedisCluster;
const pool = adapterPool();

beforeAll(async () => {
  cluster = await startCluster();
});
afterAll(async () => {
  await pool.closeAll();
  await cluster?.stop();
});

const ticket = () => ({ id: crypto.randomUUID(), signal: new AbortController().signal });

describe('redis adapter: key prefixes on a cluster', () => {
  it.each(['a{b:', 'x{}:', '{:'])('refuses keyPrefix %j with a LockerConfigError', (keyPrefix) => {
    expect(() => new RedisStorageAdapter({ nodes: cluster.nodes, keyPrefix })).toThrow(LockerConfigError);
  });

  it("refuses a client whose own keyPrefix leaves a `{` open, and leaves that client open", async () => {
    const client = new Redis({ port: cluster.nodes[0]!.port, host: cluster.nodes[0]!.host, keyPrefix: 'app{' });
    expect(() => new RedisStorageAdapter({ client })).toThrow(/unbalanced/);
    expect(await client.ping()).toBe('PONG');
    client.disconnect();
  });

  it.each(['alova:', '{app}:', 'a}b:'])('with keyPrefix %j a waiter queues and is handed the lock', async (keyPrefix) => {
    const make = () => pool.make({ nodes: cluster.nodes, keyPrefix, redlockTTL: 2000 });
    const [a, b] = [make(), make()];
    const held = await a.locker.tryAcquire('slots');
    expect(held).not.toBeNull();
    const mine = ticket();
    expect(await b.locker.tryAcquire('slots', mine)).toBeNull();
    await held!.release();
    const handle = await b.locker.tryAcquire('slots', mine);
    expect(handle).not.toBeNull();
    await handle!.release();
    expect(b.client).toBeInstanceOf(Cluster);
  });
});
