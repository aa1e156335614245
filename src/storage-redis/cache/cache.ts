import type { Cluster, Redis } from 'ioredis';
import type { Link } from '../connection/link.js';
import { cacheKey, cachePattern } from './keys.js';

/** The expire timestamp of alova's `[data, expireTimestamp, ...]` records, when there is one. */
const expireOf = (value: unknown): number | undefined => {
  const expire = Array.isArray(value) ? (value[1] as unknown) : undefined;
  return typeof expire === 'number' && Number.isFinite(expire) ? expire : undefined;
};

/** alova's l2Cache interface on Redis: JSON values under `${prefix}cache:`, expiring with alova's records. */
export class RedisCache {
  constructor(
    private readonly link: Link,
    private readonly prefix: string,
  ) {}

  async set(key: string, value: unknown): Promise<void> {
    const redisKey = cacheKey(this.prefix, key);
    const json = JSON.stringify(value);
    const expire = expireOf(value);
    const ms = expire === undefined ? undefined : Math.ceil(expire - Date.now());
    if (json === undefined || (ms !== undefined && ms <= 0)) {
      await this.link.client.del(redisKey);
    } else if (ms === undefined) {
      await this.link.client.set(redisKey, json);
    } else {
      await this.link.client.set(redisKey, json, 'PX', ms);
    }
  }

  async get<T>(key: string): Promise<T | undefined> {
    const json = await this.link.client.get(cacheKey(this.prefix, key));
    return json === null ? undefined : (JSON.parse(json) as T);
  }

  async remove(key: string): Promise<void> {
    await this.link.client.del(cacheKey(this.prefix, key));
  }

  /** Removes this adapter's cache keys (found with SCAN on every master), and nothing else. */
  async clear(): Promise<void> {
    const { client } = this.link;
    const clientPrefix = client.options.keyPrefix ?? '';
    const pattern = cachePattern(clientPrefix, this.prefix);
    // Keys come back as the server has them; ioredis adds the client's own keyPrefix again on UNLINK.
    const unlink = async (keys: string[]): Promise<void> => {
      const names = keys.map((key) => key.slice(clientPrefix.length));
      if (client.isCluster) await Promise.all(names.map((name) => client.unlink(name)));
      else if (names.length > 0) await client.unlink(...names);
    };
    let servers: Redis[] = [client as Redis];
    if (client.isCluster) {
      await client.exists(pattern); // resolves once the cluster is ready, so its masters are known
      servers = (client as Cluster).nodes('master');
    }
    await Promise.all(
      servers.map(async (server) => {
        let cursor = '0';
        do {
          const [next, keys] = await server.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
          await unlink(keys);
          cursor = next;
        } while (cursor !== '0');
      }),
    );
  }
}
