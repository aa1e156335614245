/** Construction: defaults, option checks, which connections are opened and which client is the cache's. */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { LockerConfigError } from '../../src/shared/errors.js';
import { REDIS_STORAGE_DEFAULTS } from '../../src/shared/defaults.js';
import { RedisStorageAdapter, type RedisStorageAdapterOptions } from '../../src/storage-redis/index.js';

// lazyConnect: nothing here needs a server.
const lazy = { host: '127.0.0.1', port: 1, lazyConnect: true } as const;

describe('RedisStorageAdapter options', () => {
  it('has frozen defaults', () => {
    expect(REDIS_STORAGE_DEFAULTS).toEqual({ keyPrefix: 'alova:', redlockTTL: 5000, notify: true, fair: true, commandTimeout: 1000, quorumCredentials: 'own' });
    expect(Object.isFrozen(REDIS_STORAGE_DEFAULTS)).toBe(true);
  });

  it('applies them; the adapter prefixes keys itself, ioredis gets no keyPrefix; commandTimeout reaches ioredis', async () => {
    const adapter = new RedisStorageAdapter({ ...lazy });
    expect(adapter.keyPrefix).toBe('alova:');
    expect((adapter.client as Redis).options.keyPrefix || '').toBe('');
    expect((adapter.client as Redis).options.commandTimeout).toBe(1000);
    expect(typeof adapter.locker.onRelease).toBe('function');
    await adapter.close();
  });

  it.each<[string, RedisStorageAdapterOptions]>([
    ['redlockTTL', { redlockTTL: 0 }],
    ['redlockTTL', { redlockTTL: 10.5 }],
    ['notify', { notify: 'yes' as unknown as boolean }],
    ['fair', { fair: 1 as unknown as boolean }],
    ['keyPrefix', { keyPrefix: 3 as unknown as string }],
    ['keyPrefix', { keyPrefix: '' }],
    ['quorumCredentials', { quorum: ['redis://127.0.0.1:7001'], quorumCredentials: 'all' as 'own' }],
    ['commandTimeout', { commandTimeout: -1 }],
    ['client', { client: {} as Redis }],
    ['quorum', { quorum: [] }],
    ['quorum[0]', { quorum: [42 as unknown as string] }],
    ['nodes', { nodes: [] }],
    ['redlockFilter', { redlockFilter: 'x' as unknown as () => boolean }],
  ])('rejects a bad `%s` with a TypeError naming it', (option, options) => {
    let error: unknown;
    try {
      new RedisStorageAdapter({ ...lazy, ...options });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ code: 'ERR_ATOMIZE_INVALID_OPTION', option });
  });

  it('a quorum without an address of its own keeps the cache on the first quorum server', async () => {
    const adapter = new RedisStorageAdapter({ lazyConnect: true, quorum: ['redis://127.0.0.1:7001', { port: 7002 }, { port: 7003 }] });
    expect((adapter.client as Redis).options.port).toBe(7001);
    await adapter.close();
    const separate = new RedisStorageAdapter({ ...lazy, quorum: [{ port: 7002 }] });
    expect((separate.client as Redis).options.port).toBe(1);
    await separate.close();
  });

  it('redlockFilter chooses the voters; none left is a LockerConfigError', async () => {
    const clients = [7001, 7002, 7003].map((port) => new Redis({ port, lazyConnect: true }));
    expect(() => new RedisStorageAdapter({ ...lazy, quorum: clients, redlockFilter: () => false })).toThrow(LockerConfigError);
    const adapter = new RedisStorageAdapter({ ...lazy, quorum: clients, redlockFilter: (c) => (c as Redis).options.port !== 7003 });
    await adapter.close();
    for (const client of clients) expect(client.status).toBe('wait'); // given clients are left alone
  });
});
