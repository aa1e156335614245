/** Shared bits of the Redis adapter tests. */
import type { Redis, RedisOptions } from 'ioredis';
import { RedisStorageAdapter, type RedisStorageAdapterOptions } from '../../src/storage-redis/index.js';

/** Lease used by the tests: short, to keep them fast. */
export const LEASE = 1000;

/** ioredis options for a redis:// URL (REDIS_URL or one of our servers). */
export const optionsOf = (url: string): RedisOptions => {
  const parsed = new URL(url);
  const db = Number(parsed.pathname.slice(1) || 0);
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 6379),
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    db,
  };
};

let unique = 0;
/** A key prefix no other test (or run) uses. */
export const uniquePrefix = (label: string): string => `t-${label}-${process.pid}-${Date.now()}-${unique++}:`;

/** Makes adapters and closes them all at the end. */
export const adapterPool = () => {
  const adapters: RedisStorageAdapter[] = [];
  return {
    make: (options: RedisStorageAdapterOptions): RedisStorageAdapter => {
      const adapter = new RedisStorageAdapter(options);
      adapters.push(adapter);
      return adapter;
    },
    closeAll: async (): Promise<void> => {
      await Promise.all(adapters.splice(0).map((adapter) => adapter.close()));
    },
  };
};

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until `count` connections are subscribed to the pub/sub `channel` on the server of `raw` (a
 * release published before that would be missed). Bounded generously: only catches hangs.
 */
export const subscribed = async (raw: Redis, channel: string, count = 1, ms = 20_000): Promise<void> => {
  const until = Date.now() + ms;
  for (;;) {
    const [, subscribers] = (await raw.pubsub('NUMSUB', channel)) as [string, number];
    if (Number(subscribers) >= count) return;
    if (Date.now() > until) throw new Error(`nobody subscribed to ${channel} within ${ms} ms`);
    await sleep(5);
  }
};
