/**
 * The fair line's Lua scripts, run directly on a raw client against a real redis-server: what each
 * leaves in the lock, line and roll keys, with no adapter around them.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fairAcquire, fairRelease, type FairKeys } from '../../src/storage-redis/line/fair-scripts.js';
import { fenceKey, lineKey, lockKey, rollKey } from '../../src/storage-redis/cache/keys.js';
import { startRedis, type RedisServer } from '../helpers/redis-servers.js';
import { waitFor } from '../storage-file/helpers.js';
import { optionsOf, sleep, uniquePrefix } from './setup.js';

let server: RedisServer;
let client: Redis;
let listener: Redis;
let keys: FairKeys;
const heard: string[] = [];

const LEASE = 10_000;
const LINE_TTL = 60_000;
const WINDOW = 300;

/** One attempt: the fencing token (> 0) when the lock is `token`'s, else 0. */
const acquire = (token: string, queue: '1' | '0' = '1', window = WINDOW) => fairAcquire(client, keys, '', token, LEASE, LINE_TTL, keys.pub, queue, window);
const release = (token: string) => fairRelease(client, keys, '', token, keys.pub);
const holder = () => client.get(keys.lock);

/** Every message published so far: a marker published after them arrives last, in order. */
const announced = async (): Promise<string[]> => {
  const marker = `marker:${crypto.randomUUID()}`;
  await client.publish(keys.pub, marker);
  await waitFor(() => heard.includes(marker), 'the marker');
  return heard.filter((message) => !message.startsWith('marker:'));
};
const line = () => client.zrange(keys.line, 0, -1);

beforeAll(async () => {
  server = await startRedis();
  client = new Redis(optionsOf(server.url));
  listener = new Redis(optionsOf(server.url));
  listener.on('message', (_channel: string, message: string) => heard.push(message));
});
afterAll(async () => {
  client?.disconnect();
  listener?.disconnect();
  await server?.stop();
});
beforeEach(async () => {
  const prefix = uniquePrefix('scripts');
  keys = { lock: lockKey(prefix, 'c'), line: lineKey(prefix, 'c'), roll: rollKey(prefix, 'c'), fence: fenceKey(prefix, 'c'), pub: `${lockKey(prefix, 'c')}` };
  heard.length = 0;
  await listener.subscribe(keys.pub);
});

describe('fair acquire script', () => {
  it('takes a free lock under the caller lease, queues behind a holder, and renews its own lock', async () => {
    expect(await acquire('a')).toBeGreaterThan(0);
    expect(await holder()).toBe('a');
    expect(await client.pttl(keys.lock)).toBeGreaterThan(LEASE - 1000);
    expect(await acquire('b')).toBe(0);
    expect(await acquire('c')).toBe(0);
    expect(await line()).toEqual(['b', 'c']);
    expect(await client.pttl(keys.line)).toBeGreaterThan(LINE_TTL - 1000);
    expect(await client.pttl(keys.roll)).toBeGreaterThan(LINE_TTL - 1000);
    await client.pexpire(keys.lock, 50);
    expect(await acquire('a')).toBeGreaterThan(0);
    expect(await client.pttl(keys.lock)).toBeGreaterThan(LEASE - 1000);
    // A second attempt keeps the first arrival.
    const [, firstScore] = await client.zrange(keys.line, 0, 0, 'WITHSCORES');
    expect(await acquire('b')).toBe(0);
    expect((await client.zrange(keys.line, 0, 0, 'WITHSCORES'))[1]).toBe(firstScore);
  });

  it('a ticketless attempt never queues, and takes nothing while a live waiter is in line', async () => {
    expect(await acquire('h')).toBeGreaterThan(0);
    expect(await acquire('w')).toBe(0);
    expect(await acquire('plain', '0')).toBe(0);
    expect(await line()).toEqual(['w']);
    await client.del(keys.lock);
    expect(await acquire('plain', '0')).toBe(0);
    // The free lock went to the live waiter instead, for its liveness window only.
    expect(await holder()).toBe('w');
    expect(await client.pttl(keys.lock)).toBeLessThanOrEqual(WINDOW);
    expect(await line()).toEqual([]);
  });

  it('the grantee confirms its grant with its own lease, and leaves the roll', async () => {
    await acquire('h');
    await acquire('g');
    expect(await release('h')).toBe(1);
    expect(await holder()).toBe('g');
    expect(await client.pttl(keys.lock)).toBeLessThanOrEqual(WINDOW);
    expect(await acquire('g')).toBeGreaterThan(0);
    expect(await client.pttl(keys.lock)).toBeGreaterThan(LEASE - 1000);
    expect(await client.zscore(keys.roll, 'g')).toBeNull();
  });
});

describe('fencing tokens of the scripts', () => {
  it('every grant gets a token above the last, kept for the holder, also across handoffs and expiry', async () => {
    const first = await acquire('a');
    expect(Number.isSafeInteger(first)).toBe(true);
    expect(await acquire('a')).toBe(first); // the holder's own token, not a new one
    expect(await acquire('b')).toBe(0);
    await release('a'); // handed to b, with a new token at the grant
    const second = await acquire('b');
    expect(second).toBeGreaterThan(first);
    await client.pexpire(keys.lock, 1);
    await sleep(20);
    const third = await acquire('c'); // b's lock expired: c takes it over
    expect(third).toBeGreaterThan(second);
  });

  it('stays above every earlier token when the fence was lost with every key (a restart without persistence)', async () => {
    const before = await acquire('a');
    await client.flushall();
    const after = await acquire('b');
    expect(after).toBeGreaterThan(before);
    expect(await client.hget(keys.fence, 'last')).toBe(String(after));
  });

  it('is above the last token even when the clock is behind it', async () => {
    await client.hset(keys.fence, 'last', '9000000000000000', 'holder', 'someone');
    expect(await acquire('a')).toBe(9000000000000001);
  });
});

describe('fair release script', () => {
  it('hands the lock to the first live waiter, skipping the dead ones in one pass, and announces it', async () => {
    await acquire('h');
    await acquire('dead1', '1', 50);
    await acquire('dead2', '1', 50);
    await acquire('live');
    await client.zadd(keys.line, 0, 'never-alive'); // a ticket with no liveness at all, first in line
    await sleep(100);
    expect(await release('h')).toBe(1);
    expect(await holder()).toBe('live');
    expect(await line()).toEqual([]);
    expect(await client.zrange(keys.roll, 0, -1)).toEqual(['live']);
    expect(await announced()).toEqual(['grant:live']);
  });

  it('with nobody alive in line, deletes the lock and announces it free', async () => {
    await acquire('h');
    await acquire('dead', '1', 20);
    await sleep(50);
    expect(await release('h')).toBe(1);
    expect(await client.exists(keys.lock)).toBe(0);
    expect(await line()).toEqual([]);
    expect(await announced()).toEqual(['free:h']);
  });

  it('a grant to a waiter that died runs out with its liveness, and the next attempt serves the line again', async () => {
    await acquire('h');
    await acquire('doomed', '1', 150);
    await acquire('next', '1', 5000);
    expect(await release('h')).toBe(1);
    expect(await holder()).toBe('doomed');
    await sleep(250);
    expect(await client.exists(keys.lock)).toBe(0);
    // `next` was not first, but the lock is free and the dead head is gone from line: it takes it.
    expect(await acquire('next')).toBeGreaterThan(0);
  });

  it('of an expired lock, or of one held by another, only drops the token from the line', async () => {
    await acquire('h');
    await acquire('w');
    expect(await release('w')).toBe(0);
    expect(await line()).toEqual([]);
    expect(await holder()).toBe('h');
    await client.del(keys.lock);
    expect(await release('h')).toBe(0);
    expect(await client.exists(keys.lock)).toBe(0);
    expect(await announced()).toEqual([]);
  });

  it('a leave with a grant pending hands the lock on to the next live waiter', async () => {
    await acquire('h');
    await acquire('leaver');
    await acquire('next');
    await release('h');
    expect(await holder()).toBe('leaver');
    expect(await release('leaver')).toBe(1);
    expect(await holder()).toBe('next');
    expect(await announced()).toEqual(['grant:leaver', 'grant:next']);
  });

  it('the line and roll expire when nobody joins them for the line ttl', async () => {
    await fairAcquire(client, keys, '', 'h', LEASE, LINE_TTL, '', '1', WINDOW);
    await fairAcquire(client, keys, '', 'w', LEASE, 200, '', '1', WINDOW);
    expect(await client.exists(keys.line, keys.roll)).toBe(2);
    await sleep(300);
    expect(await client.exists(keys.line, keys.roll)).toBe(0);
  });
});
