export * from './server/index.js';
export { FileStorageAdapter, type FileLockerOptions, type FileStorageAdapterOptions } from './storage-file/index.js';
export {
  RedisStorageAdapter,
  type RedisClient,
  type RedisClusterNode,
  type RedisClusterOptions,
  type RedisConnectionOptions,
  type RedisLocker,
  type RedisStorageAdapterOptions,
  type RedisTarget,
  type RedlockOptions,
} from './storage-redis/index.js';
export type { LockInspection } from './shared/inspection.js';
