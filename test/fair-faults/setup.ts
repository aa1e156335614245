/** What the fair-fault tests share: one Redis (REDIS_URL, or one of their own), a raw client on it and the in-flight server. */
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { startInflightServer, type InflightServer } from '../helpers/inflight-server.js';
import { sharedRedis } from '../helpers/redis-servers.js';
import { cleanup } from '../storage-file/helpers.js';
import { optionsOf } from '../storage-redis/setup.js';

export interface Backends {
  redis: Awaited<ReturnType<typeof sharedRedis>>;
  raw: Redis;
  http: InflightServer;
}

/** Starts them before the file's tests and stops them (and removes temp folders) after. */
export const useBackends = (): Backends => {
  const env = {} as Backends;
  beforeAll(async () => {
    [env.redis, env.http] = await Promise.all([sharedRedis(), startInflightServer()]);
    env.raw = new Redis(optionsOf(env.redis.url));
  });
  afterAll(async () => {
    env.raw?.disconnect();
    await env.http?.close();
    await env.redis?.stop();
    cleanup();
  });
  return env;
};
