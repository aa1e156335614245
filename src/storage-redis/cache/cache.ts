import type { Cluster, Redis } from 'ioredis';
import { CacheError, describe } from '../../shared/errors.js';
import type { Link } from '../connection/link.js';
import type { RedisClient } from '../options.js';
import { redisPeers } from '../peers.js';
import { cacheKey, cachePattern, isOwnCacheKey } from './keys.js';

/**
 * Time allowed to a cache value on its way to or from Redis, on top of `commandTimeout`: 1 ms per
 * 10,000 bytes of JSON (10 MB/s, a loaded host or a slow link). A write knows its size; a read is
 * allowed {@link READ_ALLOWANCE_MS}, what a value of 10 MB needs at that rate.
 */
const BYTES_PER_MS = 10_000;
const READ_ALLOWANCE_MS = 1000;

/**
 * The farthest expiry written with `PX`, ms from now (about 4,459 years): Redis refuses a `PX` that
 * does not fit next to its clock, and `1e300` is no integer at all. A record that expires later is
 * stored without expiry.
 */
export const MAX_PX = 2 ** 47;

/**
 * The expire timestamp of alova's `[data, expireTimestamp, ...]` records: an array whose second
 * element is a finite number (alova drops an infinite one), so `[1, 2]` is such a record too.
 */
const expireOf = (value: unknown): number | undefined => {
  const expire = Array.isArray(value) ? (value[1] as unknown) : undefined;
  return typeof expire === 'number' && Number.isFinite(expire) ? expire : undefined;
};

/** `value` as JSON; a TypeError (`ERR_ATOMIZE_INVALID_VALUE`) when JSON cannot represent it. */
const jsonOf = (key: string, value: unknown): string => {
  let json: string | undefined;
  let cause: unknown;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    cause = error; // a bigint, a circular structure
  }
  if (json !== undefined) return json;
  const what = typeof value === 'object' ? 'an object JSON cannot represent' : `a ${typeof value}`;
  const why = cause === undefined ? '' : ` (${String((cause as Error).message).split('\n')[0]})`;
  throw Object.assign(
    new TypeError(`RedisStorageAdapter: a cache value must be representable as JSON, got ${what}${why} for key ${describe(key)}; use remove() to delete an entry`, { cause }),
    { code: 'ERR_ATOMIZE_INVALID_VALUE', key },
  );
};

/** A reply that tells of a key holding another type (a hash, a list, …): not an entry of ours. */
const isWrongType = (error: unknown): boolean => /^WRONGTYPE\b/.test((error as Error | null)?.message ?? '');

/** Warns of an entry that is not this adapter's JSON (someone else wrote it), read as a miss. */
const warnUnreadable = (redisKey: string, error: unknown): void => {
  process.emitWarning(`RedisStorageAdapter: unreadable cache entry ${describe(redisKey)} treated as missing (${String(error)})`, {
    code: 'ERR_ATOMIZE_CACHE_ENTRY',
  });
};

/**
 * Sends one command to `client`, bounded by `ms` (ioredis's own per-command timeout, which then takes
 * the place of the connection's `commandTimeout`): cache commands are bounded on any connection, by
 * what their size needs. The client's own keyPrefix applies as to any of its commands.
 */
const send = <T>(client: RedisClient, name: string, args: ReadonlyArray<string | number>, ms: number): Promise<T> => {
  const command = new (redisPeers().ioredis.Command)(name, [...args], { keyPrefix: client.options.keyPrefix, replyEncoding: 'utf8' });
  command.setTimeout(Math.max(1, Math.ceil(ms)));
  return client.sendCommand(command) as Promise<T>;
};

/**
 * alova's l2Cache interface on Redis: JSON values under `${prefix}cache:`, expiring with alova's
 * records. Values JSON cannot represent are refused (the entry stays as it was); an entry someone
 * else wrote that is no JSON reads as a miss; every failure of Redis is a `CacheError`.
 */
export class RedisCache {
  /**
   * @param link the cache's connection (its own when the adapter opened it, so large values never
   *   hold up the lock's commands on the wire)
   * @param timeout the adapter's `commandTimeout`, ms: the bound of a small command
   */
  constructor(
    private readonly link: Link,
    private readonly prefix: string,
    private readonly timeout: number,
  ) {}

  async set(key: string, value: unknown): Promise<void> {
    const redisKey = cacheKey(this.prefix, key);
    const json = jsonOf(key, value);
    const expire = expireOf(value);
    const ms = expire === undefined ? undefined : Math.ceil(expire - Date.now());
    const { client } = this.link;
    try {
      if (ms !== undefined && ms <= 0) {
        await send(client, 'del', [redisKey], this.timeout);
        return;
      }
      const bound = this.timeout + Buffer.byteLength(json) / BYTES_PER_MS;
      await send(client, 'set', ms === undefined || ms > MAX_PX ? [redisKey, json] : [redisKey, json, 'PX', ms], bound);
    } catch (error) {
      throw new CacheError('set', key, error);
    }
  }

  async get<T>(key: string): Promise<T | undefined> {
    const redisKey = cacheKey(this.prefix, key);
    let json: string | null;
    try {
      json = await send<string | null>(this.link.client, 'get', [redisKey], this.timeout + READ_ALLOWANCE_MS);
    } catch (error) {
      if (!isWrongType(error)) throw new CacheError('get', key, error);
      warnUnreadable(redisKey, error);
      return undefined;
    }
    if (json === null) return undefined;
    try {
      return JSON.parse(json) as T;
    } catch (error) {
      warnUnreadable(redisKey, error);
      return undefined;
    }
  }

  async remove(key: string): Promise<void> {
    const redisKey = cacheKey(this.prefix, key);
    try {
      await send(this.link.client, 'del', [redisKey], this.timeout);
    } catch (error) {
      throw new CacheError('remove', key, error);
    }
  }

  /**
   * Removes this adapter's cache entries (found with SCAN on every master), and nothing else: a key is
   * unlinked only when it is `${prefix}cache:` and a name this adapter's encoding can give, so the keys
   * of an adapter whose prefix starts with `${prefix}cache:`, and foreign keys with a `:` after it, stay.
   */
  async clear(): Promise<void> {
    try {
      await this.#clear();
    } catch (error) {
      throw new CacheError('clear', undefined, error);
    }
  }

  async #clear(): Promise<void> {
    const { client } = this.link;
    const clientPrefix = client.options.keyPrefix ?? '';
    const fullPrefix = clientPrefix + this.prefix;
    const pattern = cachePattern(fullPrefix);
    // Keys come back as the server has them; the client adds its own keyPrefix again on UNLINK.
    const unlink = async (keys: string[]): Promise<void> => {
      const names = keys.filter((key) => isOwnCacheKey(key, fullPrefix)).map((key) => key.slice(clientPrefix.length));
      if (client.isCluster) await Promise.all(names.map((name) => send(client, 'unlink', [name], this.timeout)));
      else if (names.length > 0) await send(client, 'unlink', names, this.timeout + names.length);
    };
    let servers: Redis[] = [client as Redis];
    if (client.isCluster) {
      await send(client, 'exists', [cacheKey(this.prefix, '')], this.timeout); // resolves once the cluster is ready, so its masters are known
      servers = (client as Cluster).nodes('master');
    }
    await Promise.all(
      servers.map(async (server) => {
        let cursor = '0';
        do {
          const [next, keys] = await send<[string, string[]]>(server, 'scan', [cursor, 'MATCH', pattern, 'COUNT', 1000], this.timeout);
          await unlink(keys);
          cursor = next;
        } while (cursor !== '0');
      }),
    );
  }
}
