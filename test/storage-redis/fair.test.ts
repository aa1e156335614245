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

/** The ticket id of a line entry (`tag|window|id`). */
const idOf = (entry: string | null) => entry?.split('|').slice(2).join('|') ?? null;
/** Who holds the lock, or was handed it: the first of the lock's list. */
const holderOf = async (lock: string) => idOf(await raw.lindex(lock, 0));
/** The waiters behind the holder, by ticket id. */
const lineOf = async (lock: string) => (await raw.lrange(lock, 1, -1)).map(idOf);

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
    expect(await lineOf(`${keyPrefix}lock:{f}`)).toEqual(waiters.map((w) => w.ticket.id));
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
    expect(await holderOf(`${keyPrefix}lock:{l}`)).toBe(first.ticket.id);
    first.end();
    await waitFor(async () => (await holderOf(`${keyPrefix}lock:{l}`)) !== first.ticket.id, 'the leave to hand the lock on');
    expect(await holderOf(`${keyPrefix}lock:{l}`)).toBe(second.ticket.id);
    expect(await lineOf(`${keyPrefix}lock:{l}`)).toEqual([]);
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

  it('a lock handed to a wait that already ended in this process (its leave was lost) is handed on at once', async () => {
    const keyPrefix = uniquePrefix('orphan');
    const lock = `${keyPrefix}lock:{o}`;
    const make = () => pool.make({ ...optionsOf(redis.url), keyPrefix, redlockTTL: LEASE });
    const holder = await make().locker.tryAcquire('o');
    const waiter = make();
    const w = ticket();
    const heard: ReleaseEvent[] = [];
    waiter.locker.onRelease!('o', (event) => heard.push(event ?? {}));
    expect(await waiter.locker.tryAcquire('o', w.ticket)).toBeNull();
    const [, mine] = await raw.lrange(lock, 0, -1);
    const tag = mine!.split('|')[0]!;
    expect(tag).not.toBe('p');
    // A ticket of this process whose wait is over, left in line ahead of ours, for a minute.
    await raw.linsert(lock, 'BEFORE', mine!, `${tag}|60000|ghost`);
    await holder!.release();
    // The grant to the ghost reached this process, which gave it on to the next ticket: ours.
    await waitFor(() => heard.some((event) => event.grantedTo === w.ticket.id), 'the grant to be handed on to our ticket');
    expect(await raw.lrange(lock, 0, -1)).toEqual([mine]);
    const handle = await waiter.locker.tryAcquire('o', w.ticket);
    expect(handle).not.toBeNull();
    w.end();
    await handle!.release();
  });

  it('announces a handoff on a channel whose name has line breaks, and a second grant to the same ticket too', async () => {
    const keyPrefix = uniquePrefix('newline');
    const channel = 'line\nbreak\n';
    const make = () => pool.make({ ...optionsOf(redis.url), keyPrefix, redlockTTL: LEASE });
    const [holder, waiter] = [make(), make()];
    const w = ticket();
    const heard: ReleaseEvent[] = [];
    waiter.locker.onRelease!(channel, (event) => heard.push(event ?? {}));
    const first = (await holder.locker.tryAcquire(channel))!;
    expect(await waiter.locker.tryAcquire(channel, w.ticket)).toBeNull();
    await first.release();
    await waitFor(() => heard.length === 1, 'the first grant');
    expect(heard).toEqual([{ grantedTo: w.ticket.id }]);
    // The grant runs out unconfirmed (as for a stalled waiter); the ticket joins again and is handed the lock again.
    await raw.del(`${keyPrefix}lock:{${channel}}`);
    const second = (await holder.locker.tryAcquire(channel))!;
    expect(await waiter.locker.tryAcquire(channel, w.ticket)).toBeNull();
    await second.release();
    await waitFor(() => heard.length === 2, 'the second grant');
    expect(heard).toEqual([{ grantedTo: w.ticket.id }, { grantedTo: w.ticket.id }]);
    const handle = await waiter.locker.tryAcquire(channel, w.ticket);
    expect(handle).not.toBeNull();
    w.end();
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
