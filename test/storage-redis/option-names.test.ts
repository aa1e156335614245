/**
 * Option names: an unknown name, or two options that contradict each other (one would be ignored),
 * is a TypeError (`ERR_ATOMIZE_INVALID_OPTION`) naming the option and, for a typo, the closest known
 * name. One server may be given as a URL (on a redis-server of our own, with a password, an ACL user
 * and a database in it).
 */
import { Redis, type Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { RedisStorageAdapter, type RedisClient, type RedisStorageAdapterOptions } from '../../src/storage-redis/index.js';
import { startRedis, type RedisServer } from '../helpers/redis-servers.js';
import { adapterPool, uniquePrefix } from './setup.js';

/** The error `new RedisStorageAdapter(options)` throws (none: the test fails). */
const refusal = (options: unknown): Error & { code?: string; option?: string; suggestion?: string } => {
  let adapter: RedisStorageAdapter | undefined;
  try {
    adapter = new RedisStorageAdapter(options as RedisStorageAdapterOptions);
  } catch (error) {
    return error as Error;
  }
  void adapter.close();
  throw new Error(`accepted ${JSON.stringify(options)}`);
};

describe('RedisStorageAdapter option names', () => {
  const lazyClient = () => new Redis({ port: 1, lazyConnect: true });

  it.each<[string, unknown, string, string | undefined]>([
    ['a typo at the top level', { hots: '127.0.0.1' }, 'hots', 'host'],
    ['a typo of an option of its own', { redlockTtl: 1000 }, 'redlockTtl', 'redlockTTL'],
    ['a typo in a quorum entry', { lazyConnect: true, quorum: [{ prot: 7001 }] }, 'quorum[0].prot', 'quorum[0].port'],
    ['a Redlock setting it does not take', { redlockOptions: { retryCount: 3 } }, 'redlockOptions.retryCount', undefined],
    ['a typo in the Cluster options', { nodes: [{ port: 7000 }], options: { slotRefreshTimeout: 1 } }, 'options.slotRefreshTimeout', 'options.slotsRefreshTimeout'],
    ['a typo in the Cluster node options', { nodes: [{ port: 7000 }], options: { redisOptions: { pasword: 'x' } } }, 'options.redisOptions.pasword', 'options.redisOptions.password'],
    ['an ioredis option it does not pass on', { sentinels: [{ host: 'h' }] }, 'sentinels', undefined],
  ])('refuses %s, naming it and the closest known name', (_, options, option, suggestion) => {
    const error = refusal(options);
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ code: 'ERR_ATOMIZE_INVALID_OPTION', option });
    expect(error.suggestion).toBe(suggestion);
    expect(error.message).toContain(`unknown option \`${option}\``);
    if (suggestion) expect(error.message).toContain(`Did you mean \`${suggestion}\`?`);
    else expect(error.message).toContain('Known options:');
  });

  it.each<[string, () => unknown, string, RegExp]>([
    ['an address beside `client`', () => ({ client: lazyClient(), host: '10.0.0.1' }), 'host', /cannot be used with `client`/],
    ['a URL beside `client`', () => ({ client: lazyClient(), url: 'redis://127.0.0.1:6379' }), 'url', /cannot be used with `client`/],
    ['a connection option beside `client`', () => ({ client: lazyClient(), db: 3 }), 'db', /ignored: with `client`/],
    ['an address beside `nodes`', () => ({ nodes: [{ port: 7000 }], port: 7001 }), 'port', /cannot be used with `nodes`/],
    ['a connection option beside `nodes`', () => ({ nodes: [{ port: 7000 }], password: 'pw' }), 'password', /options\.redisOptions/],
    ['Cluster options without `nodes`', () => ({ options: { maxRedirections: 3 } }), 'options', /only with `nodes`/],
    ['an address beside `url`', () => ({ url: 'redis://127.0.0.1:6379', port: 6380 }), 'port', /cannot be used with `url`/],
    ['a password that the URL gives too', () => ({ url: 'redis://:pw@127.0.0.1:6379', password: 'other' }), 'password', /given by `url` too/],
    ['a database that the URL gives too', () => ({ url: 'redis://127.0.0.1:6379/2', db: 3 }), 'db', /given by `url` too/],
    ["credentials that quorum entries do not inherit ('own')", () => ({ lazyConnect: true, password: 'pw', quorum: ['redis://127.0.0.1:7001'] }), 'password', /quorumCredentials: 'inherit'/],
    ['options beside a quorum of clients only', () => ({ connectTimeout: 100, quorum: [lazyClient()] }), 'connectTimeout', /inherit no options/],
    ['a URL that is not redis://', () => ({ url: 'http://127.0.0.1:6379' }), 'url', /redis:\/\//],
    ['a URL that is no URL', () => ({ url: '127.0.0.1:6379' }), 'url', /redis:\/\//],
  ])('refuses %s', (_, options, option, message) => {
    const error = refusal(options());
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ code: 'ERR_ATOMIZE_INVALID_OPTION', option });
    expect(error.message).toMatch(message);
  });

  it.each<[string, () => RedisStorageAdapterOptions]>([
    ['options given as undefined', () => ({ client: lazyClient(), host: undefined, url: undefined })],
    ["credentials inherited with quorumCredentials: 'inherit'", () => ({ lazyConnect: true, password: 'pw', quorumCredentials: 'inherit', quorum: ['redis://127.0.0.1:7001'] })],
    ['connection options inherited by quorum entries beside a client', () => ({ client: lazyClient(), lazyConnect: true, quorum: [{ port: 7001 }] })],
    ['a username the URL does not give', () => ({ url: 'redis://127.0.0.1:1/2', username: 'app', lazyConnect: true })],
  ])('accepts %s', async (_, options) => {
    const adapter = new RedisStorageAdapter(options());
    await adapter.close();
  });
});

describe('RedisClient, the structural type of an ioredis connection', () => {
  it('fits ioredis Redis and Cluster instances, and not any object', () => {
    expectTypeOf<Redis>().toExtend<RedisClient>();
    expectTypeOf<Cluster>().toExtend<RedisClient>();
    expectTypeOf<{ status: string }>().not.toExtend<RedisClient>();
    expectTypeOf<RedisStorageAdapter['client']>().toEqualTypeOf<RedisClient>();
  });
});

describe('RedisStorageAdapter({ url })', () => {
  let server: RedisServer;
  let admin: Redis;
  const pool = adapterPool();

  beforeAll(async () => {
    server = await startRedis({ password: 'admin-pw' });
    admin = new Redis({ host: server.host, port: server.port, password: 'admin-pw' });
    await admin.acl('SETUSER', 'app', 'on', '>app-pw', '~*', '&*', '+@all');
  });
  afterAll(async () => {
    await pool.closeAll();
    admin.disconnect();
    await server.stop();
  });

  it('connects to the server, user, password and database of the URL: cache and locks', async () => {
    const keyPrefix = uniquePrefix('url');
    const adapter = pool.make({ url: `redis://app:app-pw@${server.host}:${server.port}/3`, keyPrefix });
    await adapter.set('k', { v: 1 });
    expect(await adapter.get('k')).toEqual({ v: 1 });
    const handle = await adapter.locker.tryAcquire('c');
    expect(handle).not.toBeNull();
    // Both live in database 3, where only the URL put them.
    await admin.select(3);
    expect(await admin.keys(`${keyPrefix}*`)).toEqual(expect.arrayContaining([`${keyPrefix}cache:k`, `${keyPrefix}lock:{c}`]));
    await admin.select(0);
    expect(await admin.keys(`${keyPrefix}*`)).toEqual([]);
    expect(await admin.call('CLIENT', 'LIST')).toMatch(/user=app/);
    await handle!.release();
  });

  it('a wrong password in the URL is a LockerConfigError at the first lock', async () => {
    const adapter = pool.make({ url: `redis://app:wrong@${server.host}:${server.port}`, keyPrefix: uniquePrefix('url-bad') });
    await expect(adapter.locker.tryAcquire('c')).rejects.toMatchObject({ name: 'LockerConfigError', code: 'ERR_ATOMIZE_LOCKER_CONFIG' });
  });

  it('rediss:// turns TLS on (a plain server then never answers the handshake)', async () => {
    const adapter = new RedisStorageAdapter({ url: `rediss://${server.host}:${server.port}`, lazyConnect: true });
    expect((adapter.client as Redis).options.tls).toBeTruthy();
    expect((adapter.client as Redis).options.port).toBe(server.port);
    await adapter.close();
  });
});
