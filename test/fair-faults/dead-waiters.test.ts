/**
 * Waiters killed while they wait in a fair line must not stall the ones behind them: a holder runs a
 * 4 s request, three waiting processes are SIGKILLed while queued, and the one survivor behind
 * them gets the channel within 1 s of the holder's end (before the fix: 15 s on Redis, one lease
 * per dead ticket, and 3.6 s on files). Real processes, a real redis-server, real files.
 */
import { describe, expect, it } from 'vitest';
import { fileProbe, redisProbe, type ChannelProbe } from '../helpers/probes.js';
import { spawnFixture, tempDir, waitFor, type Child } from '../storage-file/helpers.js';
import { lockKey } from '../../src/storage-redis/cache/keys.js';
import { RedisStorageAdapter } from '../../src/storage-redis/index.js';
import { optionsOf, uniquePrefix } from '../storage-redis/setup.js';
import { useBackends } from './setup.js';

const env = useBackends();

interface Setup {
  adapter: 'redis' | 'file';
  adapterOptions: object;
  probe: ChannelProbe;
}

const setups: Record<'redis' | 'file', (channel: string) => Setup> = {
  redis: (channel) => {
    const keyPrefix = uniquePrefix('dead-waiters');
    return { adapter: 'redis', adapterOptions: { ...optionsOf(env.redis.url), keyPrefix }, probe: redisProbe(env.raw, keyPrefix, channel) };
  },
  file: (channel) => {
    const directory = tempDir('dead-waiters');
    return { adapter: 'file', adapterOptions: { directory }, probe: fileProbe(directory, channel) };
  },
};

describe.each(['redis', 'file'] as const)('%s adapter: waiters killed in line', (kind) => {
  it('three dead waiters ahead cost the survivor behind them less than 1 s after the holder ends', async () => {
    const channel = `dead-${kind}`;
    const { adapter, adapterOptions, probe } = setups[kind](channel);
    const worker = (ms: number): Child =>
      spawnFixture('atomize-worker.mjs', { adapter, adapterOptions, url: env.http.url, jobs: [{ channel, count: 1 }], ms, timeout: 30_000 });
    const holder = worker(4000);
    await waitFor(() => probe.held(), 'the holder to take the lock');
    const doomed: Child[] = [];
    for (let i = 1; i <= 3; i++) {
      doomed.push(worker(1));
      await waitFor(async () => (await probe.waiting()) === i, `waiter ${i} to queue`);
    }
    const survivor = worker(1);
    await waitFor(async () => (await probe.waiting()) === 4, 'the survivor to queue');
    for (const child of doomed) child.process.kill('SIGKILL');
    await Promise.all(doomed.map((child) => child.exited));
    const [held, survived] = await Promise.all([holder.exited, survivor.exited]);
    expect(held.code).toBe(0);
    expect(survived.code).toBe(0);
    expect(JSON.parse(survivor.lines.at(-1)!)).toEqual({ done: 1, errors: [] });
    const served = env.http.served().filter((entry) => entry.channels.includes(channel));
    const holderEntry = served.find((entry) => entry.pid === String(holder.process.pid))!;
    const survivorEntry = served.find((entry) => entry.pid === String(survivor.process.pid))!;
    expect(served.map((entry) => entry.pid).sort()).toEqual([String(holder.process.pid), String(survivor.process.pid)].sort());
    const gap = survivorEntry.start - holderEntry.end;
    console.log(`${kind}: the survivor got the channel ${Math.round(gap)} ms after the holder ended`);
    expect(gap).toBeGreaterThanOrEqual(0);
    expect(gap).toBeLessThan(1000);
  });
});

describe('redis adapter: a handoff skips waiters whose process is gone', () => {
  it('the release hands the lock straight to the live waiter behind three killed ones, in the same script', async () => {
    const channel = 'skip-dead';
    const keyPrefix = uniquePrefix('skip-dead');
    const lock = lockKey(keyPrefix, channel);
    const probe = redisProbe(env.raw, keyPrefix, channel);
    const holder = new RedisStorageAdapter({ ...optionsOf(env.redis.url), keyPrefix, redlockTTL: 30_000 });
    const held = (await holder.locker.tryAcquire(channel))!;
    expect(held).not.toBeNull();
    const worker = (ms = 1): Child =>
      spawnFixture('atomize-worker.mjs', {
        adapter: 'redis',
        adapterOptions: { ...optionsOf(env.redis.url), keyPrefix },
        url: env.http.url,
        jobs: [{ channel, count: 1 }],
        ms,
        timeout: 30_000,
      });
    const doomed: Child[] = [];
    for (let i = 1; i <= 3; i++) {
      doomed.push(worker());
      await waitFor(async () => (await probe.waiting()) === i, `waiter ${i} to queue`);
    }
    const survivor = worker(1000); // its request outlasts the look below
    await waitFor(async () => (await probe.waiting()) === 4, 'the survivor to queue');
    const [, ...line] = await env.raw.lrange(lock, 0, -1);
    // Each waiter joined under its process's grant channel (not as a polling ticket).
    expect(line.every((entry) => !entry.startsWith('p|'))).toBe(true);
    for (const child of doomed) child.process.kill('SIGKILL');
    await Promise.all(doomed.map((child) => child.exited));
    // Redis has dropped the killed processes' connections (their grant channels have no subscriber).
    const channels = line.slice(0, 3).map((entry) => `${keyPrefix}grant:${entry.split('|')[0]}`);
    await waitFor(async () => ((await env.raw.pubsub('NUMSUB', ...channels)) as Array<string | number>).every((v, i) => i % 2 === 0 || v === 0), 'Redis to drop the killed connections');
    await held.release();
    // Before the survivor could even answer: the lock is its grant, the dead tickets are gone.
    expect(await env.raw.lrange(lock, 0, -1)).toEqual([line[3]]);
    const done = await survivor.exited;
    expect(done.code).toBe(0);
    await holder.close();
  });
});
