import type { AlovaGlobalCacheAdapter } from 'alova';
import { LockerClosedError, LockerConfigError, describe } from '../shared/errors.js';
import { inspectable, type LockInspection } from '../shared/inspection.js';
import { RedisCache } from './cache/cache.js';
import { isSlotSafe } from './cache/keys.js';
import { chooseVoters } from './connection/choose-voters.js';
import type { Link } from './connection/link.js';
import { openLink } from './connection/open-link.js';
import { inspectChannel } from './inspect/inspect.js';
import type { LockContext } from './lock/lock-context.js';
import { RedisLocker } from './lock/locker.js';
import { ReleaseNotifier } from './notify/release-notifier.js';
import { resolveOptions, type RedisClient as IORedisClient } from './options.js';
import { redisPeers } from './peers.js';
import type { RedisClient, RedisLocker as PublicRedisLocker, RedisStorageAdapterOptions } from './types.js';

/** Slack over `commandTimeout`, so that ioredis's own timeout (with its clearer error) fires first. */
const SLACK_MS = 50;

const dbOf = (client: IORedisClient): number => (client.isCluster ? 0 : (client.options as { db?: number }).db ?? 0);

/**
 * alova's l2Cache on Redis (single server, Cluster, or an existing ioredis client) with a distributed
 * lock for `atomize` at `adapter.locker` (Redlock, over one server or a quorum of independent ones).
 */
export class RedisStorageAdapter implements AlovaGlobalCacheAdapter {
  /**
   * The ioredis instance that holds the cache (opened at its first command when the adapter opened it);
   * cast it to ioredis's `Redis` or `Cluster` for commands of your own.
   */
  readonly client: RedisClient;
  /** The lock `atomize` uses. */
  readonly locker: PublicRedisLocker;
  readonly #locker: RedisLocker;
  readonly keyPrefix: string;
  readonly #cache: RedisCache;
  readonly #links: Link[];
  readonly #bound: number;
  readonly #ctx: LockContext;
  #closing: Promise<void> | undefined;

  /**
   * Checks the options (a `TypeError`, code `ERR_ATOMIZE_INVALID_OPTION`, for an unknown, bad or
   * conflicting one) and opens the connections. Without ioredis installed, throws `LockerConfigError`.
   */
  constructor(options?: RedisStorageAdapterOptions) {
    const resolved = resolveOptions(options);
    const { Redlock } = redisPeers().redlock;
    const bound = resolved.commandTimeout + SLACK_MS;
    const main = resolved.main ? openLink(resolved.main) : undefined;
    const opened = resolved.quorum ? resolved.quorum.map((target) => openLink(target, 'voter')) : [main!];
    // The cache has a connection of its own wherever the adapter opens connections, so that a large
    // value on the wire never holds up the lock's commands (renewals above all). A given `client` is
    // shared by both.
    let cacheLink: Link;
    if (resolved.quorum) cacheLink = main ?? openLink(resolved.quorum[0]!, 'cache');
    else cacheLink = main!.owned ? openLink(resolved.main!, 'cache') : main!;
    let voters: Link[];
    try {
      voters = chooseVoters(opened, cacheLink, resolved.filter, bound);
    } catch (error) {
      void cacheLink.close(bound);
      throw error;
    }
    for (const voter of new Set([cacheLink, ...voters])) {
      if (!isSlotSafe((voter.client.options.keyPrefix ?? '') + resolved.keyPrefix)) {
        for (const link of new Set([cacheLink, ...voters])) void link.close(bound);
        throw new LockerConfigError(
          `RedisStorageAdapter: key prefix ${describe((voter.client.options.keyPrefix ?? '') + resolved.keyPrefix)} has an unbalanced \`{\` or an empty \`{}\`: ` +
            "a channel's lock keys would fall into different Redis Cluster slots. Balance the braces or remove them",
        );
      }
    }
    const redlock = new Redlock(
      voters.map((voter) => voter.client),
      { ...resolved.redlockSettings, retryCount: 0, db: resolved.redlockSettings.db ?? dbOf(voters[0]!.client) },
    );
    const ctx: LockContext = {
      redlock,
      voters,
      quorum: Math.floor(voters.length / 2) + 1,
      ttl: resolved.ttl,
      bound,
      db: redlock.settings.db,
      scriptDb: redlock.settings.db === dbOf(voters[0]!.client) ? '' : redlock.settings.db,
      notify: resolved.notify,
      fair: resolved.fair && voters.length === 1,
      live: new Set(),
    };
    this.client = cacheLink.client;
    this.keyPrefix = resolved.keyPrefix;
    this.locker = this.#locker = new RedisLocker(ctx, resolved.keyPrefix, resolved.notify ? new ReleaseNotifier(voters, bound) : undefined);
    this.#cache = new RedisCache(cacheLink, resolved.keyPrefix, resolved.commandTimeout);
    this.#links = [...new Set([cacheLink, ...voters])];
    this.#bound = bound;
    this.#ctx = ctx;
  }

  /**
   * Stores `value` as JSON; alova's `[data, expireTimestamp, ...]` records expire at their timestamp
   * (one already past removes the entry). A value JSON cannot represent rejects with a TypeError
   * (`ERR_ATOMIZE_INVALID_VALUE`); a failure of Redis with a `CacheError`.
   */
  set(key: string, value: unknown): Promise<void> {
    return this.#cache.set(key, value);
  }

  /** The stored value, or `undefined` (also for an entry that is not JSON: someone else wrote it). */
  get<T = unknown>(key: string): Promise<T | undefined> {
    return this.#cache.get<T>(key);
  }

  remove(key: string): Promise<void> {
    return this.#cache.remove(key);
  }

  /** Removes this adapter's cache entries (never locks, never other keys). */
  clear(): Promise<void> {
    return this.#cache.clear();
  }

  /**
   * What `channel`'s lock looks like now, read on the lock servers without writing anything: held or
   * not, by whom, for how long yet, how many wait, its last fencing token. After `close()` it rejects
   * with `LockerClosedError`; a server that cannot answer with `LockerUnavailableError`.
   */
  async inspect(channel: string): Promise<LockInspection> {
    inspectable(channel);
    if (this.#closing) throw new LockerClosedError('RedisStorageAdapter');
    return inspectChannel(this.#ctx, this.keyPrefix, channel);
  }

  /**
   * Releases the locks still held here, then closes the connections the adapter opened (never a
   * `client` it was given). Idempotent.
   */
  close(): Promise<void> {
    return (this.#closing ??= (async () => {
      await this.#locker.close(this.#bound);
      await Promise.all(this.#links.map((link) => link.close(this.#bound)));
    })());
  }
}
