export * from './server/index.js';
export { FileStorageAdapter, type FileStorageAdapterOptions } from './storage-file/index.js';
export { RedisStorageAdapter, type RedisStorageAdapterOptions } from './storage-redis/index.js';
