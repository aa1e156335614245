/** Looks at a channel's lock and line from outside, in the backend itself (Redis keys, lock files). */
import type { Redis } from 'ioredis';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { lockName } from '../../src/storage-file/cache/file-names.js';
import { lockKey } from '../../src/storage-redis/cache/keys.js';

export interface ChannelProbe {
  /** Somebody holds (or was handed) the lock. */
  held(): Promise<boolean>;
  /** Tickets waiting in the channel's fair line. */
  waiting(): Promise<number>;
}

export const redisProbe = (raw: Redis, keyPrefix: string, channel: string): ChannelProbe => ({
  held: async () => (await raw.exists(lockKey(keyPrefix, channel))) === 1,
  // The lock is a list, holder first and then the waiters (or a plain key: a holder and nobody in line).
  waiting: async () => ((await raw.type(lockKey(keyPrefix, channel))) === 'list' ? Math.max(0, (await raw.llen(lockKey(keyPrefix, channel))) - 1) : 0),
});

export const fileProbe = (directory: string, channel: string): ChannelProbe => ({
  held: async () => existsSync(join(directory, 'locks', lockName(channel))),
  waiting: async () => {
    try {
      return readdirSync(join(directory, 'lines', lockName(channel))).length;
    } catch {
      return 0;
    }
  },
});
