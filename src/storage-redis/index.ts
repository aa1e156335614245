// Placeholder until the Redis adapter lands (issue 4).
export interface RedisStorageAdapterOptions { keyPrefix?: string }
export class RedisStorageAdapter {}
export default RedisStorageAdapter;
