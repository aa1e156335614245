import { RedisStorageAdapter } from './adapter.js';
import type { RedisStorageAdapterOptions } from './options.js';

export default RedisStorageAdapter;
export { RedisStorageAdapter };
export type { RedisStorageAdapterOptions };
export type { RedisClient, RedisTarget } from './options.js';
export type { RedisLocker } from './lock/locker.js';
