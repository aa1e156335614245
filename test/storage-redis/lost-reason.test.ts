/**
 * A lost lock says why (issue 14): its `LockLostError` names what happened to the key, on real
 * servers: deleted, taken over by another holder, or Redis unreachable; on one server and on a quorum.
 * The cause chain ends in the underlying error, never only in Redlock's "unable to achieve a quorum".
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LockHandle } from '../../src/shared/contract.js';
import { LockLostError } from '../../src/shared/errors.js';
import { lockKey } from '../../src/storage-redis/cache/keys.js';
import { startRedis, startRedisGroup, type RedisServer } from '../helpers/redis-servers.js';
import { waitFor } from '../helpers/wait.js';
import { LEASE, adapterPool, uniquePrefix } from './setup.js';

const pool = adapterPool();
const servers: RedisServer[] = [];
const raws: Redis[] = [];
const rawOf = (server: RedisServer): Redis => {
  const raw = new Redis(server.port, server.host);
  raws.push(raw);
  return raw;
};

/** The `LockLostError` the handle's signal aborts with (waited for generously: only catches hangs). */
const lost = async (handle: LockHandle): Promise<LockLostError> => {
  await waitFor(() => handle.signal.aborted, 'the lock to be reported lost');
  const reason: unknown = handle.signal.reason;
  expect(reason).toBeInstanceOf(LockLostError);
  return reason as LockLostError;
};

/** Every message down the cause chain. */
const chain = (error: unknown): string[] => {
  const messages: string[] = [];
  for (let e = error; e instanceof Error; e = e.cause) messages.push(e.message);
  return messages;
};

afterEach(() => pool.closeAll());
afterAll(async () => {
  await pool.closeAll();
  for (const raw of raws) raw.disconnect();
  await Promise.all(servers.map((server) => server.stop()));
});

describe('one server', () => {
  let server: RedisServer;
  let raw: Redis;
  beforeAll(async () => {
    server = await startRedis();
    servers.push(server);
    raw = rawOf(server);
  });

  const held = async (label: string) => {
    const keyPrefix = uniquePrefix(label);
    const adapter = pool.make({ host: server.host, port: server.port, keyPrefix, redlockTTL: LEASE });
    const handle = (await adapter.locker.tryAcquire('c'))!;
    expect(handle).not.toBeNull();
    return { handle, key: lockKey(keyPrefix, 'c') };
  };

  it('a key deleted under its holder: "its key was deleted on <server>"', async () => {
    const { handle, key } = await held('deleted');
    expect(await raw.del(key)).toBe(1);
    const error = await lost(handle);
    expect(error.reason).toMatch(new RegExp(`^its key was deleted on 127\\.0\\.0\\.1:${server.port} \\(deleted by a client, a FLUSHDB or FLUSHALL`));
    expect(error.message).toBe(`Lock on channel "c" was lost while the request ran: ${error.reason}`);
    expect(chain(error).join('\n')).not.toMatch(/quorum/);
    await handle.release();
  });

  it('a key taken by another holder: "another holder took it over on <server>"', async () => {
    const { handle, key } = await held('taken');
    await raw.set(key, 'someone-else', 'PX', 60_000);
    const error = await lost(handle);
    expect(error.reason).toMatch(new RegExp(`^another holder took it over on 127\\.0\\.0\\.1:${server.port} \\(its key holds another holder's token: `));
    await handle.release();
    expect(await raw.get(key)).toBe('someone-else'); // the other holder's lock is left alone
  });

  it('a server that went away: the lease ran out, and the reason names the server and its error', async () => {
    const gone = await startRedis();
    servers.push(gone);
    const adapter = pool.make({ host: gone.host, port: gone.port, keyPrefix: uniquePrefix('down'), redlockTTL: LEASE, commandTimeout: 200 });
    const handle = (await adapter.locker.tryAcquire('c'))!;
    await gone.kill();
    const error = await lost(handle);
    expect(error.reason).toMatch(
      new RegExp(`^its lease ran out (before a renewal succeeded|while its renewal was unanswered): 127\\.0\\.0\\.1:${gone.port}: .*(unreachable|ECONNREFUSED|timed out|no answer|closed)`, 'i'),
    );
    // The cause is the connection's own error, not a verdict of Redlock's.
    expect(chain(error).slice(1).join('\n')).not.toMatch(/quorum/);
    expect(error.cause).toBeInstanceOf(Error);
  });
});

describe('a quorum of three servers', () => {
  let group: RedisServer[];
  let raw: Redis[];
  beforeAll(async () => {
    group = await startRedisGroup(3);
    servers.push(...group);
    raw = group.map(rawOf);
  });

  it('keys deleted on two of three: "no quorum holds it any more", naming each server', async () => {
    const keyPrefix = uniquePrefix('quorum');
    const adapter = pool.make({ quorum: group.map(({ host, port }) => ({ host, port })), keyPrefix, redlockTTL: LEASE });
    const handle = (await adapter.locker.tryAcquire('c'))!;
    expect(handle).not.toBeNull();
    const key = lockKey(keyPrefix, 'c');
    await raw[0]!.del(key);
    await raw[1]!.set(key, 'someone-else', 'PX', 60_000);
    const error = await lost(handle);
    expect(error.reason).toMatch(/^no quorum holds it any more: /);
    expect(error.reason).toContain(`its key was deleted on 127.0.0.1:${group[0]!.port}`);
    expect(error.reason).toContain(`another holder took it over on 127.0.0.1:${group[1]!.port}`);
    await handle.release();
  });
});
