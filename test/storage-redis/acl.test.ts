/**
 * Redis ACL users. The ACL that docs/storage-redis.md gives is enough for everything the adapter does
 * (nothing lands in the ACL log); a user without channel permission (Redis 7's default for new users)
 * loses only the release notifications: locks, handoffs and atomize work, with no warning; a user
 * whose permissions do not cover the lock commands gets a LockerConfigError at once. A server of our
 * own, users made with ACL SETUSER.
 */
import { readFileSync } from 'node:fs';
import { createAlova } from 'alova';
import adapterFetch from 'alova/fetch';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { atomize } from '../../src/server/index.js';
import type { RedisStorageAdapter } from '../../src/storage-redis/index.js';
import { startInflightServer, type InflightServer } from '../helpers/inflight-server.js';
import { startRedis, type RedisServer } from '../helpers/redis-servers.js';
import { waitFor } from '../helpers/wait.js';
import { adapterPool } from './setup.js';

/** Leases of 5 s: these tests are about permissions, and must not lose a lock on a loaded machine. */
const LEASE = 5000;

/** The `ACL SETUSER` line of docs/storage-redis.md, as arguments (after `ACL SETUSER`). */
const documentedAcl = (): string[] => {
  const doc = readFileSync(new URL('../../docs/storage-redis.md', import.meta.url), 'utf8');
  const line = doc.split('\n').find((text) => text.startsWith('ACL SETUSER '));
  if (!line) throw new Error('docs/storage-redis.md has no ACL SETUSER line');
  return line.trim().split(/\s+/).slice(2);
};

let server: RedisServer;
let admin: Redis;
let http: InflightServer;
const pool = adapterPool();
const warnings: Error[] = [];
const onWarning = (warning: Error) => warnings.push(warning);

beforeAll(async () => {
  [server, http] = await Promise.all([startRedis(), startInflightServer()]);
  admin = new Redis(server.port, server.host);
  process.on('warning', onWarning);
});
afterEach(async () => {
  await pool.closeAll();
  await admin.flushall();
  await admin.acl('LOG', 'RESET');
  warnings.length = 0;
});
afterAll(async () => {
  process.off('warning', onWarning);
  admin?.disconnect();
  await server?.stop();
  await http?.close();
});

/** ACL log entries since the last reset: what Redis refused, and why. */
const aclLog = async (): Promise<Array<{ reason: string; object: string; username: string }>> => {
  const entries = (await admin.acl('LOG')) as unknown as unknown[][];
  return entries.map((entry) => {
    const fields = new Map<string, unknown>();
    for (let i = 0; i < entry.length; i += 2) fields.set(String(entry[i]), entry[i + 1]);
    return { reason: String(fields.get('reason')), object: String(fields.get('object')), username: String(fields.get('username')) };
  });
};

/** Everything the adapter does, as two processes would: cache, locks, a handoff under atomize, notification. */
const exercise = async (make: () => RedisStorageAdapter) => {
  const [a, b] = [make(), make()];
  // The cache, clear() included.
  await a.set('k', { v: 1 });
  await a.set('soon', [{ v: 2 }, Date.now() + 60_000]);
  expect(await b.get('k')).toEqual({ v: 1 });
  await a.remove('k');
  expect(await a.get('k')).toBeUndefined();
  await a.clear();
  expect(await a.get('soon')).toBeUndefined();
  // alova's lock / unlock.
  await a.locker.lock(['x', 'y']);
  await expect(b.locker.lock('x')).rejects.toMatchObject({ name: 'LockTimeoutError' });
  await a.locker.unlock(['x', 'y']);
  await b.locker.lock('x');
  await b.locker.unlock('x');
  expect(await admin.exists('alova:lock:{x}', 'alova:lock:{y}')).toBe(0);
  // atomize, contended: one waits in line and is handed the lock.
  const alovaOf = (adapter: RedisStorageAdapter) => createAlova({ baseURL: http.url, requestAdapter: adapterFetch(), l2Cache: adapter, cacheFor: null });
  const call = (adapter: RedisStorageAdapter, i: number) =>
    atomize(alovaOf(adapter).Get<{ ok: boolean }>('/work', { params: { channels: 'acl', ms: 50, i } }), { channel: 'acl', timeout: 10_000, interval: 50 });
  const results = await Promise.all([call(a, 1), call(b, 2), call(a, 3), call(b, 4)]);
  expect(results.map((r) => r.ok)).toEqual([true, true, true, true]);
  expect(http.maxInFlight().acl).toBe(1);
  expect(await admin.exists('alova:lock:{acl}')).toBe(0);
  // A waiter of another adapter learns of a release (by notification, or by polling without one).
  const held = await a.locker.tryAcquire('n');
  const heard = new Promise<void>((resolve) => b.locker.onRelease!('n', () => resolve()));
  return { a, b, held: held!, heard };
};

describe('redis adapter with ACL users', () => {
  it('the ACL of docs/storage-redis.md covers everything the adapter does: nothing refused, nothing warned', async () => {
    const args = documentedAcl();
    const username = args[0]!;
    const password = args.find((arg) => arg.startsWith('>'))!.slice(1);
    expect(await admin.call('ACL', 'SETUSER', ...args)).toBe('OK');
    const make = () => pool.make({ host: server.host, port: server.port, username, password, redlockTTL: LEASE });
    const { a, held, heard } = await exercise(make);
    await waitFor(async () => Number(((await admin.pubsub('NUMSUB', 'alova:lock:{n}')) as [string, number])[1]) === 1, 'the subscription');
    await held.release();
    await heard; // notifications reach waiters: the channel permission is there
    await a.close();
    // CLIENT SETINFO (Redis 7.2+, sent by ioredis, its refusal ignored) is the only thing allowed to be refused.
    expect((await aclLog()).filter((entry) => entry.object !== 'client|setinfo')).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it('a user without channel permission: locks, releases, handoffs and atomize work without a warning; waiters poll', async () => {
    const args = documentedAcl().map((arg) => (arg.startsWith('&') ? null : arg)).filter((arg): arg is string => arg !== null);
    args[0] = 'no-channels';
    expect(args).toContain('resetchannels');
    expect(await admin.call('ACL', 'SETUSER', ...args)).toBe('OK');
    const password = args.find((arg) => arg.startsWith('>'))!.slice(1);
    const make = () => pool.make({ host: server.host, port: server.port, username: 'no-channels', password, redlockTTL: LEASE });
    const { b, held } = await exercise(make);
    await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
    expect(warnings).toEqual([]); // before: every release warned (ERR_ATOMIZE_RELEASE), its PUBLISH refused
    // No notification can come, but a waiter of another adapter takes the channel at its next poll.
    const waiting = atomize(
      createAlova({ baseURL: http.url, requestAdapter: adapterFetch(), l2Cache: b, cacheFor: null }).Get<{ ok: boolean }>('/work', { params: { channels: 'n', ms: 1 } }),
      { channel: 'n', timeout: 10_000, interval: 50 },
    );
    let outcome: unknown = 'pending';
    waiting.then((value) => (outcome = value), (error: unknown) => (outcome = error));
    await waitFor(async () => (await admin.llen('alova:lock:{n}')) === 2, 'the waiter to queue').catch(async (error: Error) => {
      // Say why, should it ever happen: the waiter's outcome, the holder's state, the lock's lifetime.
      throw new Error(`${error.message}: waiter ${String(outcome)}, holder lost: ${String(held.signal.reason)}, lock pttl ${await admin.pttl('alova:lock:{n}')}`);
    });
    await held.release(); // hands the lock to the waiter; the notification is refused, the handoff stands
    expect((await waiting).ok).toBe(true);
    expect(warnings).toEqual([]);
    // What Redis refused: the channels only (notifications, subscriptions), never a key or a command.
    const refused = (await aclLog()).filter((entry) => entry.object !== 'client|setinfo');
    expect(refused.length).toBeGreaterThan(0);
    for (const entry of refused) expect(entry.reason).toBe('channel');
  });

  it.each([
    ['keys outside its key pattern (NOPERM)', (args: string[]) => args.map((arg) => (arg === '~alova:*' ? '~other:*' : arg))],
    ["a command the lock script runs (Redis 7.0: \"ERR The user executing the script can't …\")", (args: string[]) => args.filter((arg) => arg !== '+rpush')],
  ])('a user not allowed %s: atomize fails at once with LockerConfigError', async (_, restrict) => {
    const args = restrict(documentedAcl());
    args[0] = 'restricted';
    expect(await admin.call('ACL', 'SETUSER', ...args)).toBe('OK');
    const password = args.find((arg) => arg.startsWith('>'))!.slice(1);
    const holder = pool.make({ host: server.host, port: server.port, redlockTTL: LEASE });
    const held = await holder.locker.tryAcquire('denied'); // so that a waiter has to queue (RPUSH)
    expect(held).not.toBeNull();
    const adapter = pool.make({ host: server.host, port: server.port, username: 'restricted', password, redlockTTL: LEASE });
    const started = Date.now();
    const error = (await atomize(
      createAlova({ baseURL: http.url, requestAdapter: adapterFetch(), l2Cache: adapter, cacheFor: null }).Get('/work', { params: { channels: 'denied', ms: 1 } }),
      { channel: 'denied', timeout: 15_000, interval: 50 },
    ).catch((e: unknown) => e)) as Error & { code?: string };
    expect(error).toMatchObject({ name: 'LockerConfigError', code: 'ERR_ATOMIZE_LOCKER_CONFIG' });
    expect(error.message).toMatch(/NOPERM|can't/);
    expect(Date.now() - started).toBeLessThan(10_000); // at once: retries would take the whole 15 s deadline
    await held!.release();
  });
});
