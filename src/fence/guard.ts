import type { Cluster, Redis } from 'ioredis';
import type { RedisClient } from '../storage-redis/types.js';
import { describe } from '../shared/errors.js';
import { toFencingToken } from '../shared/fencing-header.js';
import { refuseUnknownOptions } from '../shared/known-options.js';
import { memoryStore, redisStore } from './stores.js';

/** Options of {@link createFenceGuard}. */
export interface FenceGuardOptions {
  /** Keep the highest token per resource in this Redis (shared by every instance of the upstream); default: in memory. */
  redis?: RedisClient;
  /** Prefix of the Redis keys, one per resource. @default 'alova:fence:' */
  keyPrefix?: string;
}

/** The check an upstream runs before it acts for a lock holder. */
export interface FenceGuard {
  /**
   * True when `token` is at least the highest token admitted so far for `resource` (which it then
   * records); false for a token older than that: the request comes from a holder that lost its lock
   * since, and must be refused. A token that is not a non-negative integer rejects with
   * `InvalidFencingTokenError` and is never admitted.
   */
  admit(resource: string, token: string | number | bigint): Promise<boolean>;
}

const badOption = (option: string, value: unknown, expected: string): TypeError =>
  Object.assign(new TypeError(`createFenceGuard: invalid option \`${option}\` ${describe(value)}: expected ${expected}`), {
    code: 'ERR_ATOMIZE_INVALID_OPTION',
    option,
    value,
  });

/** A fence guard: refuses requests of lock holders older than one already admitted, per resource. */
export const createFenceGuard = (options: FenceGuardOptions = {}): FenceGuard => {
  if (options === null || typeof options !== 'object') throw badOption('options', options, 'an object');
  refuseUnknownOptions('createFenceGuard', options, ['redis', 'keyPrefix']);
  const { redis, keyPrefix = 'alova:fence:' } = options;
  if (typeof keyPrefix !== 'string') throw badOption('keyPrefix', keyPrefix, 'a string');
  if (redis !== undefined && typeof (redis as Redis | undefined)?.defineCommand !== 'function') throw badOption('redis', redis, 'an ioredis client');
  const store = redis ? redisStore(redis as Redis | Cluster, keyPrefix) : memoryStore();
  return {
    admit: async (resource, token) => {
      if (typeof resource !== 'string' || resource === '') throw badOption('resource', resource, 'a non-empty string');
      return store.admit(resource, toFencingToken(token));
    },
  };
};
