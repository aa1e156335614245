/**
 * The public types of the Redis adapter, declared here rather than borrowed from ioredis: they stay
 * exact when ioredis (an optional peer) is not installed, or its types are skipped (`skipLibCheck`),
 * and a misspelt option is a type error rather than a silent fallback. The emitted declarations never
 * import 'ioredis' or '@sesamecare-oss/redlock'.
 */
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import type { AtomicLocker, ReleaseEvent } from '../shared/contract.js';

/**
 * An ioredis connection, `Redis` (one server) or `Cluster`, described by the members the adapter
 * uses, so that an instance of any ioredis 5 copy fits. Cast `adapter.client` to your ioredis type to
 * use it for your own commands.
 */
export interface RedisClient {
  /** ioredis's connection status: `'wait'`, `'connecting'`, `'ready'`, `'end'`, … */
  readonly status: string;
  /** True for a `Cluster`. */
  readonly isCluster: boolean;
  readonly options: object;
  sendCommand(...args: never[]): unknown;
  duplicate(...args: never[]): unknown;
  defineCommand(name: string, definition: { lua: string; numberOfKeys?: number }): void;
  quit(...args: never[]): Promise<unknown>;
  disconnect(...args: never[]): void;
  on(event: string | symbol, listener: (...args: any[]) => void): unknown;
  off(event: string | symbol, listener: (...args: any[]) => void): unknown;
}

/**
 * The ioredis connection options the adapter accepts (passed on to `new Redis(...)`), at the top level
 * and in a quorum entry; what each means is ioredis's documentation. Any other name is refused.
 */
export interface RedisConnectionOptions {
  /** @default 'localhost' */
  host?: string;
  /** @default 6379 */
  port?: number;
  /** A Unix socket path, instead of `host` and `port`. */
  path?: string;
  /** IP version of `host`: 4, 6, or 0 for either. */
  family?: number;
  /** TLS options (`rediss://` URLs turn TLS on by themselves). */
  tls?: TlsConnectionOptions;
  /** ACL user (Redis 6+). */
  username?: string;
  password?: string;
  /** Database index. @default 0 */
  db?: number;
  /** `CLIENT SETNAME` of the connection. */
  connectionName?: string;
  /** ms to wait for the connection to be set up. */
  connectTimeout?: number;
  /** ms of socket inactivity after which the connection is dropped. */
  socketTimeout?: number;
  /** TCP keep-alive initial delay, ms. */
  keepAlive?: number;
  noDelay?: boolean;
  disconnectTimeout?: number;
  /** ms before the next reconnection attempt, or nothing to stop reconnecting. */
  retryStrategy?: (times: number) => number | void | null;
  maxRetriesPerRequest?: number | null;
  reconnectOnError?: ((error: Error) => boolean | 1 | 2) | null;
  enableOfflineQueue?: boolean;
  enableReadyCheck?: boolean;
  /** Connect at the first command rather than at once. */
  lazyConnect?: boolean;
  autoResubscribe?: boolean;
  autoResendUnfulfilledCommands?: boolean;
  enableAutoPipelining?: boolean;
  autoPipeliningIgnoredCommands?: string[];
  maxLoadingRetryTime?: number;
  showFriendlyErrorStack?: boolean;
  disableClientInfo?: boolean;
  clientInfoTag?: string;
}

/** A Redis Cluster startup node: `'host:port'`, a port, or `{ host, port }`. */
export type RedisClusterNode = string | number | { host?: string; port?: number };

/** The ioredis Cluster options the adapter accepts (with `nodes`); any other name is refused. */
export interface RedisClusterOptions {
  /** Options of the connection to each node (not `host`, `port`, `path`). */
  redisOptions?: Omit<RedisConnectionOptions, 'host' | 'port' | 'path' | 'retryStrategy' | 'enableOfflineQueue'>;
  clusterRetryStrategy?: (times: number, reason?: Error) => number | void | null;
  enableOfflineQueue?: boolean;
  enableReadyCheck?: boolean;
  lazyConnect?: boolean;
  maxRedirections?: number;
  retryDelayOnFailover?: number;
  retryDelayOnClusterDown?: number;
  retryDelayOnTryAgain?: number;
  retryDelayOnMoved?: number;
  slotsRefreshTimeout?: number;
  slotsRefreshInterval?: number;
  /** Maps the addresses the cluster announces to the ones to connect to. */
  natMap?: Record<string, { host: string; port: number }>;
  dnsLookup?: (hostname: string, callback: (error: Error | null | undefined, address: string, family?: number) => void) => void;
  enableAutoPipelining?: boolean;
  autoPipeliningIgnoredCommands?: string[];
}

/** One Redis to use: an ioredis instance (never closed by the adapter), connection options, or a `redis://` URL. */
export type RedisTarget = RedisClient | RedisConnectionOptions | string;

/** The `@sesamecare-oss/redlock` settings the adapter accepts; its retries are always off (atomize waits). */
export interface RedlockOptions {
  /** Clock drift allowance, a fraction of the lease. @default 0.01 */
  driftFactor?: number;
  /** The database the locks live in. @default the `db` of the first lock server's connection */
  db?: number;
}

/**
 * Options of `RedisStorageAdapter`: where to connect (one of `host`/`port`/`path`, `url`, `nodes`,
 * `client`, `quorum`, or nothing for localhost:6379), ioredis connection options, and the adapter's own.
 * An unknown name, or two that contradict each other (`client` with `host`), is a `TypeError`
 * (`ERR_ATOMIZE_INVALID_OPTION`).
 */
export interface RedisStorageAdapterOptions extends RedisConnectionOptions {
  /**
   * One Redis server as a URL: `redis://[[user]:password@]host[:port][/db]`, or `rediss://` for TLS.
   * Not with `host`, `port` or `path`, nor with a `username`, `password` or `db` the URL gives too.
   */
  url?: string;
  /**
   * Prefix of every key the adapter writes (the adapter prefixes keys itself); not empty, so that the
   * adapter's keys (and what `clear()` removes) are told apart from other applications'. @default 'alova:'
   */
  keyPrefix?: string;
  /** Redis Cluster startup nodes: the adapter opens `new Cluster(nodes, options)`. */
  nodes?: RedisClusterNode[];
  /** ioredis Cluster options, with `nodes`. */
  options?: RedisClusterOptions;
  /** An existing ioredis `Redis` or `Cluster` instance to use, as it is; `close()` leaves it open. */
  client?: RedisClient;
  /**
   * Independent Redis servers that vote on every lock (Redlock quorum: a majority must agree). Without
   * `client`, `nodes`, `url`, `host`, `port` or `path`, the cache lives on the first of them.
   *
   * An entry given as connection options or a `redis://` URL inherits the connection options given at
   * the top level (`db`, `tls`, `connectTimeout`, `retryStrategy`, …, and `commandTimeout`), except the
   * address (`host`, `port`, `path`) and, unless `quorumCredentials` is `'inherit'`, the credentials
   * (`username`, `password`); what the entry (or its URL) gives itself wins. An ioredis instance
   * inherits nothing.
   */
  quorum?: RedisTarget[];
  /**
   * Whether quorum entries inherit the top-level `username` and `password`: `'own'` (each entry
   * authenticates only with the credentials it gives itself, in its options or URL), or `'inherit'`
   * (entries that give none use the top-level ones). @default 'own'
   */
  quorumCredentials?: 'own' | 'inherit';
  /** Settings of `@sesamecare-oss/redlock` (`driftFactor`, `db`); retries are always off (atomize waits). */
  redlockOptions?: RedlockOptions;
  /** Keeps only the voting clients for which it returns true. */
  redlockFilter?: (client: RedisClient) => boolean;
  /** The lease of a lock in ms, renewed while held. @default 5000 */
  redlockTTL?: number;
  /** Publish release notifications and offer `locker.onRelease`. @default true */
  notify?: boolean;
  /** Hand the lock to waiters in arrival order (one server or a cluster; a quorum is never fair). @default true */
  fair?: boolean;
  /** Bound of every Redis command in ms (ioredis option, also applied by the locker to any client). @default 1000 */
  commandTimeout?: number;
}

/**
 * The adapter's lock (`adapter.locker`): alova's `lock` / `unlock`, and the richer contract of this
 * package (`tryAcquire` with kept-alive handles, `onRelease` when notifications are on).
 */
export interface RedisLocker extends AtomicLocker {
  /** Present only when the adapter's `notify` option is on. */
  readonly onRelease?: (channel: string, listener: (event?: ReleaseEvent) => void) => () => void;
}
