/** The adapter as alova's l2Cache: JSON values, alova's expiry, clear() of its own keys only. */
import { Redis, type Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStorageAdapter } from '../../src/storage-redis/index.js';
import { sharedRedis, startCluster, type RedisCluster } from '../helpers/redis-servers.js';
import { adapterPool, optionsOf, sleep, subscribed, uniquePrefix } from './setup.js';
import { waitFor } from '../helpers/wait.js';

describe('redis cache, single server', () => {
  let server: Awaited<ReturnType<typeof sharedRedis>>;
  let raw: Redis;
  const pool = adapterPool();
  const make = (keyPrefix = uniquePrefix('cache')) => pool.make({ ...optionsOf(server.url), keyPrefix });

  beforeAll(async () => {
    server = await sharedRedis();
    raw = new Redis(optionsOf(server.url));
  });
  afterAll(async () => {
    await pool.closeAll();
    // On a shared server (REDIS_URL), leave nothing of this run behind.
    for (const db of [0, 1].map((n) => ((optionsOf(server.url).db ?? 0) + n) % 16)) {
      const client = new Redis({ ...optionsOf(server.url), db });
      const keys = await client.keys(`t-*-${process.pid}-*`);
      if (keys.length > 0) await client.del(...keys);
      client.disconnect();
    }
    raw.disconnect();
    await server?.stop();
  });

  it('stores JSON values, gives undefined for missing keys, removes', async () => {
    const adapter = make();
    const values = [{ a: 1, b: [true, null, 'x'] }, 'text', 42, [1, 'two', { three: 3 }], false];
    for (const [i, value] of values.entries()) {
      await adapter.set(`k${i}`, value);
      expect(await adapter.get(`k${i}`)).toEqual(value);
    }
    expect(await adapter.get('missing')).toBeUndefined();
    await adapter.remove('k0');
    expect(await adapter.get('k0')).toBeUndefined();
    expect(await raw.get(`${adapter.keyPrefix}cache:k1`)).toBe('"text"');
  });

  it("expires alova's [data, expireTimestamp, tag] records at their timestamp", async () => {
    const adapter = make();
    const key = `${adapter.keyPrefix}cache:soon`;
    await adapter.set('soon', [{ v: 1 }, Date.now() + 400, 'tag']);
    expect(await adapter.get('soon')).toEqual([{ v: 1 }, expect.any(Number), 'tag']);
    const pttl = await raw.pttl(key);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(400);
    await sleep(550);
    expect(await adapter.get('soon')).toBeUndefined();
    // Without a numeric expire timestamp (alova drops an infinite one), no expiry.
    await adapter.set('forever', [{ v: 2 }, 'tag']);
    expect(await raw.pttl(`${adapter.keyPrefix}cache:forever`)).toBe(-1);
  });

  it('does not write an already expired record, and removes the one stored', async () => {
    const adapter = make();
    await adapter.set('old', [{ v: 1 }]);
    expect(await adapter.get('old')).toEqual([{ v: 1 }]);
    await adapter.set('old', [{ v: 2 }, Date.now() - 1]);
    expect(await adapter.get('old')).toBeUndefined();
    expect(await raw.exists(`${adapter.keyPrefix}cache:old`)).toBe(0);
  });

  it('clear() removes its own cache keys only: not another prefix, a foreign key, nor a held lock', async () => {
    const keyPrefix = `${uniquePrefix('clear')}[*?]:`; // glob characters in the prefix are matched literally
    const adapter = make(keyPrefix);
    const other = make(`${keyPrefix.slice(0, -1)}x:`);
    const foreign = [`${keyPrefix}plain`, `${keyPrefix.replace('[*?]', 'a')}cache:k`, `${keyPrefix}cachex`];
    for (const key of foreign) await raw.set(key, 'foreign');
    for (let i = 0; i < 30; i++) await adapter.set(`key{${i}}*`, { i });
    await other.set('kept', 'other adapter');
    const handle = await adapter.locker.tryAcquire('clear-lock');
    expect(handle).not.toBeNull();

    await adapter.clear();

    expect(await raw.keys(`${keyPrefix.replace(/[[\]*?]/g, '\\$&')}cache:*`)).toEqual([]);
    expect(await adapter.get('key{1}*')).toBeUndefined();
    for (const key of foreign) expect(await raw.get(key)).toBe('foreign');
    expect(await other.get('kept')).toBe('other adapter');
    expect(await raw.exists(`${keyPrefix}lock:{clear-lock}`)).toBe(1);
    expect(await make(keyPrefix).locker.tryAcquire('clear-lock')).toBeNull();
    await handle!.release();
    await raw.del(...foreign);
  });

  it('keeps a given client open on close(); closes the connections it opened', async () => {
    const client = new Redis(optionsOf(server.url));
    const given = new RedisStorageAdapter({ client, keyPrefix: uniquePrefix('given') });
    expect(given.client).toBe(client);
    await given.set('a', 1);
    await given.close();
    expect(await client.ping()).toBe('PONG');
    client.disconnect();

    const own = new RedisStorageAdapter({ ...optionsOf(server.url), keyPrefix: uniquePrefix('own') });
    await own.set('a', 1);
    await own.close();
    expect(own.client.status).toBe('end');
  });

  it("works through a given client that has an ioredis keyPrefix of its own (cache, clear, locks, notification)", async () => {
    const outer = `${uniquePrefix('outer')}`;
    const clients = [0, 1].map(() => new Redis({ ...optionsOf(server.url), keyPrefix: outer }));
    const [a, b] = clients.map((client) => new RedisStorageAdapter({ client, keyPrefix: 'inner:' }));
    await a!.set('k', 1);
    expect(await raw.get(`${outer}inner:cache:k`)).toBe('1');
    await raw.set(`${outer}inner:other`, 'foreign');
    await a!.clear();
    expect(await raw.exists(`${outer}inner:cache:k`)).toBe(0);
    expect(await raw.get(`${outer}inner:other`)).toBe('foreign');
    const handle = await a!.locker.tryAcquire('c');
    expect(await raw.exists(`${outer}inner:lock:{c}`)).toBe(1);
    expect(await b!.locker.tryAcquire('c')).toBeNull();
    const heard = new Promise<void>((resolve) => b!.locker.onRelease!('c', () => resolve()));
    // The notification channel is the lock's full key, the client's own prefix included.
    await subscribed(raw, `${outer}inner:lock:{c}`);
    await handle!.release();
    await heard;
    await Promise.all([a!.close(), b!.close()]);
    await raw.del(`${outer}inner:other`);
    for (const client of clients) client.disconnect();
  });

  it('keeps locks and cache in the database chosen with `db`', async () => {
    const db = ((optionsOf(server.url).db ?? 0) + 1) % 16;
    const adapter = make();
    const other = pool.make({ ...optionsOf(server.url), db, keyPrefix: adapter.keyPrefix });
    const inDb = new Redis({ ...optionsOf(server.url), db });
    const handle = await other.locker.tryAcquire('d');
    await other.set('v', 1);
    expect(await inDb.exists(`${adapter.keyPrefix}lock:{d}`, `${adapter.keyPrefix}cache:v`)).toBe(2);
    expect(await raw.exists(`${adapter.keyPrefix}lock:{d}`, `${adapter.keyPrefix}cache:v`)).toBe(0);
    expect(await adapter.locker.tryAcquire('d')).not.toBeNull(); // another database, another lock
    await handle!.release();
    expect(await inDb.exists(`${adapter.keyPrefix}lock:{d}`)).toBe(0);
    await other.clear();
    inDb.disconnect();
  });

  it('with notify: false the locker has no onRelease and publishes nothing', async () => {
    const keyPrefix = uniquePrefix('quiet');
    const loud = make(keyPrefix);
    const silent = pool.make({ ...optionsOf(server.url), keyPrefix, notify: false });
    expect(silent.locker.onRelease).toBeUndefined();
    expect('onRelease' in silent.locker).toBe(false);
    expect(typeof loud.locker.onRelease).toBe('function');

    const listener = new Redis(optionsOf(server.url));
    const heard: string[] = [];
    listener.on('pmessage', (_pattern: string, channel: string) => heard.push(channel));
    await listener.psubscribe(`${keyPrefix}*`);
    await (await silent.locker.tryAcquire('quiet'))!.release();
    await (await loud.locker.tryAcquire('loud'))!.release();
    // Wait for the loud release's message: one the silent release sent before it would have come first.
    await waitFor(() => heard.length > 0 && heard.at(-1) === `${keyPrefix}lock:{loud}`, "the loud adapter's release");
    expect(heard).toEqual([`${keyPrefix}lock:{loud}`]);
    listener.disconnect();
  });
});

describe('redis cache and locks, cluster', () => {
  let cluster: RedisCluster;
  const pool = adapterPool();

  beforeAll(async () => {
    cluster = await startCluster();
  });
  afterAll(async () => {
    await pool.closeAll();
    await cluster?.stop();
  });

  it('clear() scans every master and removes only its cache keys', async () => {
    const keyPrefix = uniquePrefix('cclear');
    const adapter = pool.make({ nodes: cluster.nodes, keyPrefix });
    const others = pool.make({ nodes: cluster.nodes, keyPrefix: uniquePrefix('cother') });
    for (let i = 0; i < 60; i++) await adapter.set(`k${i}`, i);
    await others.set('kept', 1);
    const handle = await adapter.locker.tryAcquire('held');
    const perMaster = await Promise.all(cluster.nodes.map(async ({ port }) => {
      const node = new Redis({ host: '127.0.0.1', port });
      const keys = await node.keys(`${keyPrefix}cache:*`);
      node.disconnect();
      return keys.length;
    }));
    expect(perMaster.every((n) => n > 0)).toBe(true); // the keys really are spread over the masters

    await adapter.clear();

    for (let i = 0; i < 60; i += 7) expect(await adapter.get(`k${i}`)).toBeUndefined();
    expect(await others.get('kept')).toBe(1);
    expect(await pool.make({ nodes: cluster.nodes, keyPrefix }).locker.tryAcquire('held')).toBeNull();
    await handle!.release();
  });

  it("routes a channel's lock key to the master that owns it; braces in names are encoded", async () => {
    const keyPrefix = uniquePrefix('route');
    const adapter = pool.make({ nodes: cluster.nodes, keyPrefix });
    const channels = ['{braces}', 'a{b}c', 'plain', '%7B'];
    const handles = await Promise.all(channels.map((c) => adapter.locker.tryAcquire(c)));
    expect(handles.every(Boolean)).toBe(true);
    const expected = [`${keyPrefix}lock:{%7Bbraces%7D}`, `${keyPrefix}lock:{a%7Bb%7Dc}`, `${keyPrefix}lock:{plain}`, `${keyPrefix}lock:{%257B}`];
    for (const key of expected) {
      const slot = Number(await (adapter.client as Cluster).cluster('KEYSLOT', key));
      const found = await Promise.all(cluster.nodes.map(async ({ port }) => {
        const node = new Redis({ host: '127.0.0.1', port });
        const keys = (await node.cluster('GETKEYSINSLOT', slot, 10)) as string[];
        node.disconnect();
        return keys.includes(key);
      }));
      expect(found.filter(Boolean)).toHaveLength(1);
    }
    await Promise.all(handles.map((h) => h!.release()));
  });
});
