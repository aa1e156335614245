/**
 * Waiters killed while they wait in a fair line must not stall the ones behind them: a holder runs a
 * 4 s request, three waiting processes are SIGKILLed while queued, and the one survivor behind
 * them gets the channel within 1 s of the holder's end (before the fix: 15 s on Redis, one lease
 * per dead ticket, and 3.6 s on files). Real processes, a real redis-server, real files.
 */
import { describe, expect, it } from 'vitest';
import { fileProbe, redisProbe, type ChannelProbe } from '../helpers/probes.js';
import { spawnFixture, tempDir, waitFor, type Child } from '../storage-file/helpers.js';
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
