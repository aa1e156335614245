import type { Settings as RedlockSettings } from '@sesamecare-oss/redlock';
import type { Cluster, ClusterNode, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { describe } from '../shared/errors.js';
import { REDIS_STORAGE_DEFAULTS } from '../shared/defaults.js';

/** An ioredis connection: a single server (`Redis`) or a Redis Cluster (`Cluster`). */
export type RedisClient = Redis | Cluster;

/** One Redis to use: an ioredis instance (never closed by the adapter), ioredis options, or a redis:// URL. */
export type RedisTarget = RedisClient | RedisOptions | string;

/** Options of {@link RedisStorageAdapter}: ioredis connection options plus the adapter's own. */
export interface RedisStorageAdapterOptions extends Omit<RedisOptions, 'keyPrefix'> {
  /**
   * Prefix of every key the adapter writes (the adapter prefixes keys itself); not empty, so that the
   * adapter's keys (and what `clear()` removes) are told apart from other applications'. @default 'alova:'
   */
  keyPrefix?: string;
  /** Redis Cluster startup nodes: the adapter opens `new Cluster(nodes, options)`. */
  nodes?: ClusterNode[];
  /** ioredis Cluster options, with `nodes`. */
  options?: ClusterOptions;
  /** An existing ioredis `Redis` or `Cluster` instance to use; `close()` leaves it open. */
  client?: RedisClient;
  /**
   * Independent Redis servers that vote on every lock (Redlock quorum: a majority must agree). Without
   * `client`, `nodes`, `host`, `port` or `path`, the cache lives on the first of them.
   *
   * An entry given as ioredis options or a `redis://` URL inherits the ioredis options given at the top
   * level (`db`, `tls`, `connectTimeout`, `retryStrategy`, …, and `commandTimeout`), except the address
   * (`host`, `port`, `path`) and, unless `quorumCredentials` is `'inherit'`, the credentials
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
  /** Settings of `@sesamecare-oss/redlock` (`driftFactor`, `db`, ...); retries are always off (atomize waits). */
  redlockOptions?: RedlockSettings;
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

/** Where to connect, once sorted out. */
export type Target =
  | { kind: 'client'; client: RedisClient }
  | { kind: 'redis'; options: RedisOptions; url?: string }
  | { kind: 'cluster'; nodes: ClusterNode[]; options: ClusterOptions };

export interface ResolvedOptions {
  readonly keyPrefix: string;
  readonly ttl: number;
  readonly notify: boolean;
  readonly fair: boolean;
  readonly commandTimeout: number;
  readonly redlockSettings: RedlockSettings;
  readonly filter?: (client: RedisClient) => boolean;
  /** The cache connection; `undefined` means the first quorum server. */
  readonly main?: Target;
  readonly quorum?: readonly Target[];
}

const bad = (option: string, value: unknown, expected: string): TypeError =>
  Object.assign(new TypeError(`RedisStorageAdapter: invalid option \`${option}\` ${describe(value)}: expected ${expected}`), {
    code: 'ERR_ATOMIZE_INVALID_OPTION',
    option,
    value,
  });

/** True for an ioredis `Redis` or `Cluster` instance (also of another copy of ioredis). */
export const isClient = (value: unknown): value is RedisClient =>
  !!value && typeof value === 'object' && typeof (value as Redis).sendCommand === 'function' && typeof (value as Redis).duplicate === 'function';

const targetOf = (value: unknown, shared: RedisOptions, option: string): Target => {
  if (isClient(value)) return { kind: 'client', client: value };
  if (typeof value === 'string' && value) return { kind: 'redis', url: value, options: shared };
  if (value && typeof value === 'object' && !Array.isArray(value)) return { kind: 'redis', options: { ...shared, ...(value as RedisOptions) } };
  throw bad(option, value, 'an ioredis client, ioredis options or a redis:// URL');
};

const ADDRESS_KEYS = ['host', 'port', 'path'] as const;
const CREDENTIAL_KEYS = ['username', 'password'] as const;

/** Checks the adapter options and applies the defaults; throws a `TypeError` naming the bad option. */
export const resolveOptions = (input: RedisStorageAdapterOptions = {}): ResolvedOptions => {
  if (input === null || typeof input !== 'object') throw bad('options', input, 'an object');
  const d = REDIS_STORAGE_DEFAULTS;
  const { keyPrefix = d.keyPrefix, nodes, options, client, quorum, quorumCredentials = d.quorumCredentials, redlockOptions = {}, redlockFilter, ...rest } = input;
  const { redlockTTL: ttl = d.redlockTTL, notify = d.notify, fair = d.fair, commandTimeout = d.commandTimeout, ...redisOptions } = rest;
  if (typeof keyPrefix !== 'string' || keyPrefix === '') throw bad('keyPrefix', keyPrefix, 'a non-empty string');
  if (!Number.isInteger(ttl) || ttl <= 0) throw bad('redlockTTL', ttl, 'a positive integer number of milliseconds');
  if (typeof notify !== 'boolean') throw bad('notify', notify, 'a boolean');
  if (typeof fair !== 'boolean') throw bad('fair', fair, 'a boolean');
  if (typeof commandTimeout !== 'number' || !(commandTimeout > 0) || !Number.isFinite(commandTimeout)) {
    throw bad('commandTimeout', commandTimeout, 'a positive number of milliseconds');
  }
  if (redlockFilter !== undefined && typeof redlockFilter !== 'function') throw bad('redlockFilter', redlockFilter, 'a function');
  if (!redlockOptions || typeof redlockOptions !== 'object') throw bad('redlockOptions', redlockOptions, 'an object');
  if (client !== undefined && !isClient(client)) throw bad('client', client, 'an ioredis Redis or Cluster instance');
  if (nodes !== undefined && (!Array.isArray(nodes) || nodes.length === 0)) throw bad('nodes', nodes, 'a non-empty array of cluster nodes');
  if (client && nodes) throw bad('nodes', nodes, 'either `client` or `nodes`, not both');
  if (quorum !== undefined && (!Array.isArray(quorum) || quorum.length === 0)) throw bad('quorum', quorum, 'a non-empty array');
  if (quorumCredentials !== 'own' && quorumCredentials !== 'inherit') throw bad('quorumCredentials', quorumCredentials, "'own' or 'inherit'");

  // What a quorum entry inherits: the top-level ioredis options but the address, and the credentials
  // only when asked (a server of the quorum has passwords of its own).
  const shared: RedisOptions = { ...redisOptions, commandTimeout };
  for (const key of ADDRESS_KEYS) delete shared[key];
  if (quorumCredentials === 'own') for (const key of CREDENTIAL_KEYS) delete shared[key];
  const quorumTargets = quorum?.map((entry, i) => targetOf(entry, shared, `quorum[${i}]`));
  const hasAddress = ADDRESS_KEYS.some((key) => redisOptions[key] !== undefined);
  let main: Target | undefined;
  if (client) main = { kind: 'client', client };
  else if (nodes) main = { kind: 'cluster', nodes, options: { ...options, redisOptions: { commandTimeout, ...options?.redisOptions } } };
  else if (!quorumTargets || hasAddress) main = { kind: 'redis', options: { ...redisOptions, commandTimeout } };

  return { keyPrefix, ttl, notify, fair, commandTimeout, redlockSettings: redlockOptions, filter: redlockFilter, main, quorum: quorumTargets };
};
