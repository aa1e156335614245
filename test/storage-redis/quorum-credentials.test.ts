/**
 * Quorum servers have credentials of their own: the top-level `username` / `password` (the cache's
 * server) are not sent to them unless `quorumCredentials: 'inherit'` says so. Servers with different
 * passwords; the ACL log of a server shows every AUTH it refused.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisStorageAdapter } from '../../src/storage-redis/index.js';
import { startRedis, type RedisServer } from '../helpers/redis-servers.js';
import { LEASE, adapterPool } from './setup.js';

const HOST = '127.0.0.1';
let main: RedisServer;
let voters: RedisServer[];
const pool = adapterPool();

beforeAll(async () => {
  [main, ...voters] = await Promise.all(['main-pw', 'a-pw', 'b-pw', 'c-pw'].map((password) => startRedis({ password })));
});
afterEach(() => pool.closeAll());
afterAll(async () => {
  await pool.closeAll();
  await Promise.all([main, ...voters].map((server) => server?.stop()));
});

/** Refused AUTH attempts seen by `server` (whose password is `password`), then the log is reset. */
const refusedAuths = async (server: RedisServer, password: string): Promise<number> => {
  const admin = new Redis({ host: HOST, port: server.port, password });
  const entries = (await admin.acl('LOG')) as unknown as unknown[][];
  await admin.acl('LOG', 'RESET');
  admin.disconnect();
  return entries.filter((entry) => entry[entry.indexOf('reason') + 1] === 'auth').length;
};

describe('redis quorum: credentials per server', () => {
  it('each entry authenticates with its own credentials only; one without any gets none of the top level', async () => {
    const [a, b, c] = voters as [RedisServer, RedisServer, RedisServer];
    const adapter = pool.make({
      host: HOST,
      port: main.port,
      password: 'main-pw',
      keyPrefix: 'own:',
      redlockTTL: LEASE,
      quorum: [{ host: HOST, port: a.port, password: 'a-pw' }, `redis://:b-pw@${HOST}:${b.port}`, { host: HOST, port: c.port }],
    });
    await adapter.set('k', 1); // the cache: on the main server, with the top-level password
    expect(await adapter.get('k')).toBe(1);
    const handle = await adapter.locker.tryAcquire('q'); // a and b vote; c refuses (no credentials)
    expect(handle).not.toBeNull();
    await handle!.release();
    await adapter.close();
    expect(await refusedAuths(a, 'a-pw')).toBe(0);
    expect(await refusedAuths(b, 'b-pw')).toBe(0);
    // c was sent no AUTH at all (a NOAUTH on its commands, no refused password: main-pw never went there).
    expect(await refusedAuths(c, 'c-pw')).toBe(0);
    expect(await refusedAuths(main, 'main-pw')).toBe(0);
  });

  it("without credentials of their own, quorum servers get a LockerConfigError (NOAUTH); top-level ones are refused unless quorumCredentials: 'inherit' passes them on", async () => {
    // Servers sharing one password, as with `'inherit'` in mind.
    const shared = await Promise.all([0, 1, 2].map(() => startRedis({ password: 'shared-pw' })));
    try {
      const quorum = shared.map((server) => ({ host: HOST, port: server.port }));
      // With 'own' (the default) no entry would use a top-level password: refused, not ignored.
      expect(() => new RedisStorageAdapter({ password: 'shared-pw', quorum, keyPrefix: 'inh:' })).toThrow(
        expect.objectContaining({ code: 'ERR_ATOMIZE_INVALID_OPTION', option: 'password' }),
      );
      const own = pool.make({ quorum, keyPrefix: 'inh:', redlockTTL: LEASE });
      await expect(own.locker.tryAcquire('q')).rejects.toMatchObject({ name: 'LockerConfigError', message: expect.stringMatching(/NOAUTH/) });
      const inherit = pool.make({ password: 'shared-pw', quorum, quorumCredentials: 'inherit', keyPrefix: 'inh:', redlockTTL: LEASE });
      const handle = await inherit.locker.tryAcquire('q');
      expect(handle).not.toBeNull();
      await handle!.release();
      await pool.closeAll();
      for (const server of shared) expect(await refusedAuths(server, 'shared-pw')).toBe(0);
    } finally {
      await Promise.all(shared.map((server) => server.stop()));
    }
  });

  it('refuses a quorumCredentials other than own or inherit', () => {
    expect(() => new RedisStorageAdapter({ lazyConnect: true, quorum: [{ port: 1 }], quorumCredentials: 'yes' as 'own' })).toThrow(
      expect.objectContaining({ code: 'ERR_ATOMIZE_INVALID_OPTION', option: 'quorumCredentials' }),
    );
  });
});
