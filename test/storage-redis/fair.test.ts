/**
 * Fair handoff on one Redis server: waiters queue in arrival order, a release hands the lock straight to
 * the first of them, a waiter that leaves or dies costs the others at most one lease.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReleaseEvent, WaitTicket } from '../../src/shared/contract.js';
import { LockTimeoutError } from '../../src/shared/errors.js';
import { startInflightServer, type InflightServer } from '../helpers/inflight-server.js';
import { sharedRedis } from '../helpers/redis-servers.js';
import { runWorkers } from '../helpers/run-workers.js';
import { repeatsWhileOthersWait } from '../helpers/turns.js';
import { waitFor } from '../storage-file/helpers.js';
import { LEASE, adapterPool, optionsOf, sleep, uniquePrefix } from './setup.js';

let redis: Awaited<ReturnType<typeof sharedRedis>>;
let http: InflightServer;
let raw: Redis;
const pool = adapterPool();

beforeAll(async () => {
  [redis, http] = await Promise.all([sharedRedis(), startInflightServer()]);
  raw = new Redis(optionsOf(redis.url));
});
afterAll(async () => {
  raw?.disconnect();
  await pool.closeAll();
  await http?.close();
  await redis?.stop();
});

const ticket = () => {
  const ending = new AbortController();
  return { ticket: { id: crypto.randomUUID(), signal: ending.signal } as WaitTicket, end: () => ending.abort() };
};

describe('redis adapter: fair handoff', () => {
  it('hands the lock to waiters in arrival order, naming each in the release event', async () => {
    const keyPrefix = uniquePrefix('fair');
    const make = () => pool.make({ ...optionsOf(redis.url), keyPrefix, redlockTTL: LEASE });
    const holder = await make().locker.tryAcquire('f');
    const waiters = [make(), make(), make()].map((adapter) => ({ adapter, ...ticket(), events: [] as ReleaseEvent[] }));
    for (const w of waiters) {
      w.adapter.locker.onRelease!('f', (event) => w.events.push(event ?? {}));
      expect(await w.adapter.locker.tryAcquire('f', w.ticket)).toBeNull();
    }
    expect(await raw.zrange(`${keyPrefix}line:{f}`, 0, -1)).toEqual(waiters.map((w) => w.ticket.id));
    // Every waiter's subscriber is in place before the first release is published.
    const pub = `${keyPrefix}lock:{f}`;
    await waitFor(async () => ((await raw.pubsub('NUMSUB', pub)) as [string, number])[1] === waiters.length, 'the subscriptions');
    let current = holder!;
    for (const w of waiters) {
      await current.release();
      await waitFor(() => w.events.some((event) => event.grantedTo === w.ticket.id), 'the grant to be heard');
      expect(w.events.at(-1)).toEqual({ grantedTo: w.ticket.id });
      for (const other of waiters.filter((o) => o !== w && !o.ticket.signal.aborted)) {
        expect(await other.adapter.locker.tryAcquire('f', other.ticket)).toBeNull();
      }
      current = (await w.adapter.locker.tryAcquire('f', w.ticket))!;
      expect(current).not.toBeNull();
      w.end();
    }
    await current.release();
    expect(await raw.exists(`${keyPrefix}lock:{f}`)).toBe(0);
    expect(await make().locker.tryAcquire('f')).not.toBeNull();
  });

  it('a waiter that ends its wait leaves the line, and a lock handed to it meanwhile goes on', async () => {
    const keyPrefix = uniquePrefix('leave');
    const make = () => pool.make({ ...optionsOf(redis.url), keyPrefix, redlockTTL: LEASE });
    const holder = await make().locker.tryAcquire('l');
    const [first, second] = [ticket(), ticket()];
    const [a, b] = [make(), make()];
    expect(await a.locker.tryAcquire('l', first.ticket)).toBeNull();
    expect(await b.locker.tryAcquire('l', second.ticket)).toBeNull();
    await holder!.release();
    expect(await raw.get(`${keyPrefix}lock:{l}`)).toBe(first.ticket.id);
    first.end();
    await waitFor(async () => (await raw.get(`${keyPrefix}lock:{l}`)) !== first.ticket.id, 'the leave to hand the lock on');
    expect(await raw.get(`${keyPrefix}lock:{l}`)).toBe(second.ticket.id);
    expect(await raw.zrange(`${keyPrefix}line:{l}`, 0, -1)).toEqual([]);
    const handle = await b.locker.tryAcquire('l', second.ticket);
    expect(handle).not.toBeNull();
    await handle!.release();
  });

  it('a waiter that stopped trying costs the others its liveness window (three intervals), not a lease', async () => {
    const keyPrefix = uniquePrefix('dead');
    const make = () => pool.make({ ...optionsOf(redis.url), keyPrefix, redlockTTL: 5000 });
    const holder = await make().locker.tryAcquire('d');
    // A waiter that queued and then died: it never tries again. Its interval of 50 ms gives it 150 ms.
    const dead = { id: crypto.randomUUID(), signal: new AbortController().signal, interval: 50 } as WaitTicket;
    expect(await make().locker.tryAcquire('d', dead)).toBeNull();
    const { ticket: mine } = ticket();
    const alive = make();
    expect(await alive.locker.tryAcquire('d', mine)).toBeNull();
    await holder!.release();
    const released = Date.now();
    let handle = null;
    while (!handle && Date.now() - released < 20_000) {
      handle = await alive.locker.tryAcquire('d', mine);
      if (!handle) await sleep(50);
    }
    expect(handle).not.toBeNull();
    // One lease (5 s) before the fix; now the dead waiter's 150 ms plus one try.
    expect(Date.now() - released).toBeLessThan(1000);
    await handle!.release();
  });

  it('takes no lock ahead of the line: a ticketless attempt gets null while a waiter is queued', async () => {
    const keyPrefix = uniquePrefix('ahead');
    const make = () => pool.make({ ...optionsOf(redis.url), keyPrefix, redlockTTL: LEASE });
    const holder = await make().locker.tryAcquire('h');
    const w = ticket();
    expect(await make().locker.tryAcquire('h', w.ticket)).toBeNull();
    await holder!.release();
    await expect(make().locker.lock('h')).rejects.toBeInstanceOf(LockTimeoutError);
    w.end();
  });

  it('across processes, a process rarely takes the next turn again while another waits', async () => {
    const keyPrefix = uniquePrefix('procs');
    const config = {
      adapter: 'redis' as const,
      adapterOptions: { ...optionsOf(redis.url), keyPrefix, redlockTTL: LEASE },
      url: http.url,
      jobs: [{ channel: 'turns', count: 10 }],
      ms: 5,
      timeout: 30_000,
      startAt: Date.now() + 2000,
    };
    const results = await runWorkers([config, config, config, config]);
    expect(results.map((r) => r.errors)).toEqual([[], [], [], []]);
    const served = http.served().filter((s) => s.channels.includes('turns'));
    expect(served).toHaveLength(40);
    expect(http.maxInFlight().turns).toBe(1);
    const { repeats, contended } = repeatsWhileOthersWait(served);
    // Without fair handoff the releasing process wins again about half the time or more.
    expect(contended).toBeGreaterThan(20);
    expect(repeats / contended).toBeLessThan(0.1);
  });
});
