/**
 * The fair line's Lua scripts, run directly on a raw client against a real redis-server: what each
 * leaves in the lock (a list: holder, then waiters) and fence keys, and what it announces, with no
 * adapter around them.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fenceKey, lockKey } from '../../src/storage-redis/cache/keys.js';
import { fairAcquire, fairExtend, fairRelease, type FairKeys, type TryMode } from '../../src/storage-redis/line/fair-scripts.js';
import { startRedis, type RedisServer } from '../helpers/redis-servers.js';
import { waitFor } from '../storage-file/helpers.js';
import { optionsOf, sleep, uniquePrefix } from './setup.js';

let server: RedisServer;
let client: Redis;
let listener: Redis;
let keys: FairKeys;
const heard: string[] = [];

const LEASE = 10_000;
const WINDOW = 300;
/** The tag of a process whose grant channel `listener` subscribes: its tickets count as alive. */
const LIVE = 'live-process';

/** A ticket as the line has it: `tag|window|id`. */
const t = (id: string, tag = LIVE, window = WINDOW) => `${tag}|${window}|${id}`;
/** One attempt: the fencing token (> 0), minus the place in line (< 0), or 0. */
const acquire = (ticket: string, mode: TryMode = '1') => fairAcquire(client, keys, '', ticket, LEASE, mode);
const release = (ticket: string, counted: '1' | '0' = '1') => fairRelease(client, keys, '', ticket, keys.pub, keys.procs, counted);
const line = () => client.lrange(keys.lock, 0, -1);

/** Every message heard so far, as `channel message`: a marker published after them arrives last. */
const announced = async (): Promise<string[]> => {
  const marker = `marker:${crypto.randomUUID()}`;
  await client.publish(keys.pub, marker);
  await waitFor(() => heard.some((entry) => entry.endsWith(marker)), 'the marker');
  return heard.filter((entry) => !entry.includes('marker:'));
};

beforeAll(async () => {
  server = await startRedis();
  client = new Redis(optionsOf(server.url));
  listener = new Redis(optionsOf(server.url));
  listener.on('message', (channel: string, message: string) => heard.push(`${channel === keys.pub ? 'pub' : channel.slice(keys.procs.length)} ${message}`));
});
afterAll(async () => {
  client?.disconnect();
  listener?.disconnect();
  await server?.stop();
});
beforeEach(async () => {
  const prefix = uniquePrefix('scripts');
  keys = { lock: lockKey(prefix, 'c'), fence: fenceKey(prefix, 'c'), pub: lockKey(prefix, 'c'), procs: `${prefix}grant:` };
  heard.length = 0;
  await listener.subscribe(keys.pub, keys.procs + LIVE);
});

describe('fair acquire script', () => {
  it('takes a free lock under the caller lease, queues behind the holder in arrival order, and confirms its own lock', async () => {
    expect(await acquire(t('a'))).toBeGreaterThan(0);
    expect(await line()).toEqual([t('a')]);
    expect(await client.pttl(keys.lock)).toBeGreaterThan(LEASE - 1000);
    expect(await acquire(t('b'))).toBe(-1);
    expect(await acquire(t('c'))).toBe(-2);
    expect(await line()).toEqual([t('a'), t('b'), t('c')]);
    // A later try keeps the place, without joining twice.
    expect(await acquire(t('b'), '2')).toBe(-1);
    expect(await line()).toEqual([t('a'), t('b'), t('c')]);
    await client.pexpire(keys.lock, 5000);
    expect(await acquire(t('a'), '2')).toBeGreaterThan(0);
    expect(await client.pttl(keys.lock)).toBeGreaterThan(LEASE - 1000);
  });

  it('a try that takes only a free lock never queues', async () => {
    expect(await acquire(t('h'))).toBeGreaterThan(0);
    expect(await acquire(t('plain'), '0')).toBe(0);
    expect(await line()).toEqual([t('h')]);
    await client.del(keys.lock);
    expect(await acquire(t('plain'), '0')).toBeGreaterThan(0);
    expect(await line()).toEqual([t('plain')]);
  });

  it('a later try whose line was lost (the holder ran out) joins again, or takes the free lock', async () => {
    await acquire(t('h'));
    await acquire(t('w1'));
    await acquire(t('w2'));
    await client.del(keys.lock);
    expect(await acquire(t('w2'), '2')).toBeGreaterThan(0);
    expect(await acquire(t('w1'), '2')).toBe(-1);
    expect(await line()).toEqual([t('w2'), t('w1')]);
  });

  it('leaves a holder of another kind (a plain string key) alone', async () => {
    await client.set(keys.lock, 'someone', 'PX', 5000);
    expect(await acquire(t('a'))).toBe(0);
    expect(await acquire(t('a'), '2')).toBe(0);
    expect(await acquire(t('a'), '0')).toBe(0);
    expect(await release(t('a'))).toBe(0);
    expect(await client.get(keys.lock)).toBe('someone');
  });
});

describe('fencing tokens of the scripts', () => {
  it('every confirmed lock gets a token above the last, also across handoffs and expiry', async () => {
    const first = await acquire(t('a'));
    expect(Number.isSafeInteger(first)).toBe(true);
    expect(await acquire(t('b'))).toBe(-1);
    await release(t('a'));
    const second = await acquire(t('b'), '2');
    expect(second).toBeGreaterThan(first);
    await client.pexpire(keys.lock, 1);
    await sleep(20);
    const third = await acquire(t('c'));
    expect(third).toBeGreaterThan(second);
    expect(third - first).toBeLessThan(10); // one counter, not a clock reading per grant
  });

  it('stays above every earlier token when the fence was lost with every key (a restart without persistence)', async () => {
    const before = await acquire(t('a'));
    await client.flushall();
    const after = await acquire(t('b'));
    expect(after).toBeGreaterThan(before);
    expect(await client.get(keys.fence)).toBe(String(after));
    expect(await client.pttl(keys.fence)).toBeGreaterThan(86_000_000);
  });

  it('counts on from the last token even when the clock is behind it', async () => {
    await client.set(keys.fence, '9000000000000000');
    expect(await acquire(t('a'))).toBe(9000000000000001);
  });

  it("seeds from the clock over an older copy's fence (a hash)", async () => {
    await client.hset(keys.fence, 'last', '1000', 'holder', 'someone');
    const token = await acquire(t('a'));
    expect(token).toBeGreaterThan(Date.now() * 1000 - 60_000_000);
    expect(await client.type(keys.fence)).toBe('string');
  });
});

describe('fair release script', () => {
  it('hands the lock to the first waiter whose process is connected, dropping the others in one pass, for its window', async () => {
    await acquire(t('h'));
    await acquire(t('dead1', 'gone-process'));
    await acquire(t('dead2', 'gone-too'));
    await acquire(t('live', LIVE, 700));
    await acquire(t('after'));
    expect(await release(t('h'))).toBe(1);
    expect(await line()).toEqual([t('live', LIVE, 700), t('after')]);
    const ttl = await client.pttl(keys.lock);
    expect(ttl).toBeGreaterThan(500);
    expect(ttl).toBeLessThanOrEqual(700);
    expect(await announced()).toEqual([`${LIVE} ${t('live', LIVE, 700)}\n${keys.lock}`]);
  });

  it('with nobody connected in line, deletes the lock and announces it free', async () => {
    await acquire(t('h'));
    await acquire(t('dead', 'gone-process'));
    expect(await release(t('h'))).toBe(1);
    expect(await client.exists(keys.lock)).toBe(0);
    expect(await announced()).toEqual([`pub free:${t('h')}`]);
  });

  it('counts a polling ticket as alive, and announces its grant on the lock channel', async () => {
    await acquire(t('h'));
    await acquire(t('poller', 'p'));
    expect(await release(t('h'))).toBe(1);
    expect(await line()).toEqual([t('poller', 'p')]);
    expect(await announced()).toEqual(['pub grant:poller']);
  });

  it('on a cluster (receivers not counted) serves the first ticket whatever the count', async () => {
    await acquire(t('h'));
    await acquire(t('elsewhere', 'other-node'));
    expect(await release(t('h'), '0')).toBe(1);
    expect(await line()).toEqual([t('elsewhere', 'other-node')]);
  });

  it('a grant that is never confirmed runs out with the window, taking the line with it', async () => {
    await acquire(t('h'));
    await acquire(t('stalled', LIVE, 150));
    await acquire(t('next', LIVE, 5000));
    await release(t('h'));
    await sleep(250);
    expect(await client.exists(keys.lock)).toBe(0);
    expect(await acquire(t('next'), '2')).toBeGreaterThan(0);
  });

  it('of a waiter only takes it out of the line; of an expired lock does nothing', async () => {
    await acquire(t('h'));
    await acquire(t('w'));
    await acquire(t('x'));
    expect(await release(t('w'))).toBe(0);
    expect(await line()).toEqual([t('h'), t('x')]);
    await client.del(keys.lock);
    expect(await release(t('h'))).toBe(0);
    expect(await client.exists(keys.lock)).toBe(0);
    expect(await announced()).toEqual([]);
  });

  it('a leave with a grant pending hands the lock on to the next live waiter', async () => {
    await acquire(t('h'));
    await acquire(t('leaver'));
    await acquire(t('next'));
    await release(t('h'));
    expect(await release(t('leaver'))).toBe(1);
    expect(await line()).toEqual([t('next')]);
    expect((await announced()).map((entry) => entry.split('\n')[0])).toEqual([`${LIVE} ${t('leaver')}`, `${LIVE} ${t('next')}`]);
  });
});

describe('fair extend script', () => {
  it("renews the holder's lease only", async () => {
    await acquire(t('h'));
    await acquire(t('w'));
    await client.pexpire(keys.lock, 1000);
    expect(await fairExtend(client, keys, '', t('w'), LEASE)).toBe(0);
    expect(await client.pttl(keys.lock)).toBeLessThanOrEqual(1000);
    expect(await fairExtend(client, keys, '', t('h'), LEASE)).toBe(1);
    expect(await client.pttl(keys.lock)).toBeGreaterThan(LEASE - 1000);
    await client.del(keys.lock);
    await client.set(keys.lock, t('h'));
    expect(await fairExtend(client, keys, '', t('h'), LEASE)).toBe(0);
  });
});
