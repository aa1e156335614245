/**
 * `close()` of an adapter while its callers hold or wait: a running request is aborted and its call
 * rejects with `LockLostError` before the lock goes to anyone else; waiting tickets leave their line;
 * calls after `close()` fail at once with `LockerClosedError` on both adapters.
 */
import { createAlova } from 'alova';
import adapterFetch from 'alova/fetch';
import { describe, expect, it } from 'vitest';
import { atomize } from '../../src/server/index.js';
import { LockerClosedError, LockLostError } from '../../src/shared/errors.js';
import { FileStorageAdapter } from '../../src/storage-file/index.js';
import { RedisStorageAdapter } from '../../src/storage-redis/index.js';
import { fileProbe, redisProbe, type ChannelProbe } from '../helpers/probes.js';
import { tempDir, waitFor } from '../storage-file/helpers.js';
import { optionsOf, uniquePrefix } from '../storage-redis/setup.js';
import { useBackends } from './setup.js';

const env = useBackends();

type Adapter = RedisStorageAdapter | FileStorageAdapter;

/** Adapters sharing one backend, and a probe of `channel` there. */
const backends = {
  redis: (channel: string) => {
    const keyPrefix = uniquePrefix('close');
    return { make: (): Adapter => new RedisStorageAdapter({ ...optionsOf(env.redis.url), keyPrefix }), probe: redisProbe(env.raw, keyPrefix, channel) };
  },
  file: (channel: string) => {
    const directory = tempDir('close');
    return { make: (): Adapter => new FileStorageAdapter({ directory }), probe: fileProbe(directory, channel) };
  },
} satisfies Record<string, (channel: string) => { make: () => Adapter; probe: ChannelProbe }>;

const request = (adapter: Adapter, channel: string, ms: number) =>
  atomize(createAlova({ baseURL: env.http.url, requestAdapter: adapterFetch(), l2Cache: adapter, cacheFor: null }).Get('/work', { params: { channels: channel, ms } }), {
    channel,
    timeout: 10_000,
  }).send();

describe.each(['redis', 'file'] as const)('%s adapter: close()', (kind) => {
  it('aborts a running request: its call rejects with LockLostError at once, and close() releases the lock', async () => {
    const channel = `close-running-${kind}`;
    const { make, probe } = backends[kind](channel);
    const closing = make();
    const outcome = request(closing, channel, 5000).then(
      () => 'resolved',
      (error: unknown) => error,
    );
    await waitFor(() => env.http.maxInFlight()[channel] === 1, 'the request to reach the server');
    const started = Date.now();
    await closing.close();
    expect(await probe.held()).toBe(false);
    const error = await outcome;
    expect(error).toBeInstanceOf(LockLostError);
    expect((error as LockLostError).cause).toBeInstanceOf(LockerClosedError);
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('takes its waiting tickets out of their lines, and every later call fails at once', async () => {
    const channel = `close-waiting-${kind}`;
    const { make, probe } = backends[kind](channel);
    const [holder, closing] = [make(), make()];
    const held = await holder.locker.tryAcquire(channel);
    expect(held).not.toBeNull();
    const waiting = request(closing, channel, 1).then(() => 'resolved', (error: unknown) => error);
    await waitFor(async () => (await probe.waiting()) === 1, 'the waiter to queue');
    const started = Date.now();
    await closing.close();
    expect(await probe.waiting()).toBe(0);
    expect(await waiting).toBeInstanceOf(LockerClosedError);
    await expect(closing.locker.tryAcquire(channel)).rejects.toBeInstanceOf(LockerClosedError);
    await expect(request(closing, channel, 1)).rejects.toBeInstanceOf(LockerClosedError);
    expect(Date.now() - started).toBeLessThan(2000);
    // Nobody is left in line: the release frees the channel instead of handing it to a ghost.
    await held!.release();
    expect(await probe.held()).toBe(false);
    await holder.close();
  });
});
