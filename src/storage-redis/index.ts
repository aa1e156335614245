import { RedisStorageAdapter } from './adapter.js';
import type { RedisStorageAdapterOptions } from './types.js';

export default RedisStorageAdapter;
export { RedisStorageAdapter };
export type { RedisStorageAdapterOptions };
export type {
  RedisClient,
  RedisClusterNode,
  RedisClusterOptions,
  RedisConnectionOptions,
  RedisLocker,
  RedisTarget,
  RedlockOptions,
} from './types.js';
export type { LockInspection } from '../shared/inspection.js';
