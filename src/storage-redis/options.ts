import type { Settings as RedlockSettings } from '@sesamecare-oss/redlock';
import type { Cluster, ClusterNode, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { describe } from '../shared/errors.js';
import { REDIS_STORAGE_DEFAULTS } from '../shared/defaults.js';
import { refuseUnknownOptions } from '../shared/known-options.js';
import type { RedisClusterOptions, RedisConnectionOptions, RedisStorageAdapterOptions, RedlockOptions } from './types.js';

/**
 * An ioredis connection, with ioredis's own types (internal: the public types, in types.ts, need no
 * ioredis types).
 */
export type RedisClient = Redis | Cluster;

/** Every name of {@link RedisConnectionOptions}: the ioredis options the adapter passes on. */
const CONNECTION_KEYS = [
  'host', 'port', 'path', 'family', 'tls', 'username', 'password', 'db', 'connectionName', 'connectTimeout',
  'socketTimeout', 'keepAlive', 'noDelay', 'disconnectTimeout', 'retryStrategy', 'maxRetriesPerRequest',
  'reconnectOnError', 'enableOfflineQueue', 'enableReadyCheck', 'lazyConnect', 'autoResubscribe',
  'autoResendUnfulfilledCommands', 'enableAutoPipelining', 'autoPipeliningIgnoredCommands', 'maxLoadingRetryTime',
  'showFriendlyErrorStack', 'disableClientInfo', 'clientInfoTag',
] as const satisfies ReadonlyArray<keyof RedisConnectionOptions>;
/** Every name of the adapter's own options. */
const OWN_KEYS = [
  'url', 'keyPrefix', 'nodes', 'options', 'client', 'quorum', 'quorumCredentials', 'redlockOptions', 'redlockFilter',
  'redlockTTL', 'notify', 'fair', 'commandTimeout',
] as const satisfies ReadonlyArray<keyof RedisStorageAdapterOptions>;
const CLUSTER_KEYS = [
  'redisOptions', 'clusterRetryStrategy', 'enableOfflineQueue', 'enableReadyCheck', 'lazyConnect', 'maxRedirections',
  'retryDelayOnFailover', 'retryDelayOnClusterDown', 'retryDelayOnTryAgain', 'retryDelayOnMoved', 'slotsRefreshTimeout',
  'slotsRefreshInterval', 'natMap', 'dnsLookup', 'enableAutoPipelining', 'autoPipeliningIgnoredCommands',
] as const satisfies ReadonlyArray<keyof RedisClusterOptions>;
const REDLOCK_KEYS = ['driftFactor', 'db'] as const satisfies ReadonlyArray<keyof RedlockOptions>;
const ADDRESS_KEYS = ['host', 'port', 'path'] as const;
const CREDENTIAL_KEYS = ['username', 'password'] as const;
const NODE_OPTION_KEYS = CONNECTION_KEYS.filter((key) => !['host', 'port', 'path', 'retryStrategy', 'enableOfflineQueue'].includes(key));

// Each list names every option of its interface, no more (a compile-time check: a name added to an
// interface and not to its list would be refused at run time).
type Unlisted<T, List extends readonly unknown[]> = Exclude<keyof T, List[number]>;
const everyName: [
  Unlisted<RedisStorageAdapterOptions, [...typeof CONNECTION_KEYS, ...typeof OWN_KEYS]>,
  Unlisted<RedisClusterOptions, typeof CLUSTER_KEYS>,
  Unlisted<RedlockOptions, typeof REDLOCK_KEYS>,
] = [] as unknown as [never, never, never];
void everyName;

export type { RedisStorageAdapterOptions };

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

/** Two options that contradict each other, or one that would be ignored: `option` names the one to drop. */
const conflict = (option: string, why: string): TypeError =>
  Object.assign(new TypeError(`RedisStorageAdapter: option \`${option}\` ${why}`), { code: 'ERR_ATOMIZE_INVALID_OPTION', option });

/** True for an ioredis `Redis` or `Cluster` instance (also of another copy of ioredis). */
export const isClient = (value: unknown): value is RedisClient =>
  !!value && typeof value === 'object' && typeof (value as Redis).sendCommand === 'function' && typeof (value as Redis).duplicate === 'function';

const targetOf = (value: unknown, shared: RedisOptions, option: string): Target => {
  if (isClient(value)) return { kind: 'client', client: value };
  if (typeof value === 'string' && value) return { kind: 'redis', url: value, options: shared };
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    refuseUnknownOptions('RedisStorageAdapter', value, CONNECTION_KEYS, `${option}.`);
    return { kind: 'redis', options: { ...shared, ...(value as RedisOptions) } };
  }
  throw bad(option, value, 'an ioredis client, ioredis options or a redis:// URL');
};

/** The parts of a `redis://` or `rediss://` URL that ioredis would take over options given beside it. */
const urlParts = (url: unknown): { username: boolean; password: boolean; db: boolean } => {
  let parsed: URL | undefined;
  try {
    parsed = typeof url === 'string' ? new URL(url) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') || !parsed.hostname) {
    throw bad('url', url, 'a URL redis://[[user]:password@]host[:port][/db] (or rediss:// for TLS)');
  }
  return { username: parsed.username !== '', password: parsed.password !== '', db: parsed.pathname.length > 1 };
};

interface Where {
  readonly url: unknown;
  readonly client: unknown;
  readonly nodes: unknown;
  readonly quorum: readonly unknown[] | undefined;
  readonly quorumCredentials: 'own' | 'inherit';
}

/**
 * Refuses connection options that another option makes meaningless (the adapter would ignore them):
 * an address beside `client`, `nodes` or `url`; anything beside `client` or `nodes` that no quorum
 * entry inherits; credentials that a quorum without a server of its own does not inherit.
 */
const checkConflicts = (redisOptions: RedisOptions, { url, client, nodes, quorum, quorumCredentials }: Where): void => {
  const given = (Object.keys(redisOptions) as Array<keyof RedisOptions>).filter((key) => redisOptions[key] !== undefined);
  const ruler = client ? 'client' : nodes ? 'nodes' : undefined;
  if (url !== undefined) {
    if (ruler) throw conflict('url', `cannot be used with \`${ruler}\`: give one way to reach Redis`);
    const parts = urlParts(url);
    for (const key of ADDRESS_KEYS) if (given.includes(key)) throw conflict(key, 'cannot be used with `url`, which gives the address: give one of them');
    for (const key of ['username', 'password', 'db'] as const) {
      if (parts[key] && given.includes(key)) throw conflict(key, `is given by \`url\` too (the URL's would win): give it once`);
    }
  }
  if (ruler) for (const key of ADDRESS_KEYS) if (given.includes(key)) throw conflict(key, `cannot be used with \`${ruler}\`, which says where Redis is: give one of them`);
  const inheriting = (quorum ?? []).some((entry) => !isClient(entry));
  const ownServer = !ruler && (quorum === undefined || url !== undefined || ADDRESS_KEYS.some((key) => given.includes(key)));
  if (ownServer) return;
  for (const key of given) {
    if (inheriting) {
      if (!(CREDENTIAL_KEYS as readonly string[]).includes(key) || quorumCredentials === 'inherit') continue;
      throw conflict(key, "is not used: quorum entries inherit no credentials with `quorumCredentials: 'own'` (the default); give it in each entry, or set `quorumCredentials: 'inherit'`");
    }
    if (ruler === 'client') throw conflict(key, 'would be ignored: with `client` the adapter uses your ioredis instance as it is (set it on that instance)');
    if (ruler === 'nodes') throw conflict(key, 'would be ignored: with `nodes`, give the options of the connections to the nodes in `options.redisOptions`');
    throw conflict(key, 'would be ignored: quorum entries that are ioredis instances inherit no options');
  }
};

/** Checks the adapter options and applies the defaults; throws a `TypeError` naming the bad option. */
export const resolveOptions = (input: RedisStorageAdapterOptions = {}): ResolvedOptions => {
  if (input === null || typeof input !== 'object') throw bad('options', input, 'an object');
  refuseUnknownOptions('RedisStorageAdapter', input, [...OWN_KEYS, ...CONNECTION_KEYS]);
  const d = REDIS_STORAGE_DEFAULTS;
  const { keyPrefix = d.keyPrefix, nodes, options, quorum, quorumCredentials = d.quorumCredentials, redlockOptions = {}, url, ...rest } = input;
  const client = input.client as RedisClient | undefined;
  const redlockFilter = input.redlockFilter as ((client: RedisClient) => boolean) | undefined;
  const { redlockTTL: ttl = d.redlockTTL, notify = d.notify, fair = d.fair, commandTimeout = d.commandTimeout, client: _client, redlockFilter: _filter, ...given } = rest;
  // Options given as `undefined` count as not given.
  const redisOptions = Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined)) as RedisOptions;
  if (typeof keyPrefix !== 'string' || keyPrefix === '') throw bad('keyPrefix', keyPrefix, 'a non-empty string');
  if (!Number.isInteger(ttl) || ttl <= 0) throw bad('redlockTTL', ttl, 'a positive integer number of milliseconds');
  if (typeof notify !== 'boolean') throw bad('notify', notify, 'a boolean');
  if (typeof fair !== 'boolean') throw bad('fair', fair, 'a boolean');
  if (typeof commandTimeout !== 'number' || !(commandTimeout > 0) || !Number.isFinite(commandTimeout)) {
    throw bad('commandTimeout', commandTimeout, 'a positive number of milliseconds');
  }
  if (redlockFilter !== undefined && typeof redlockFilter !== 'function') throw bad('redlockFilter', redlockFilter, 'a function');
  if (!redlockOptions || typeof redlockOptions !== 'object') throw bad('redlockOptions', redlockOptions, 'an object');
  refuseUnknownOptions('RedisStorageAdapter', redlockOptions, REDLOCK_KEYS, 'redlockOptions.');
  if (client !== undefined && !isClient(client)) throw bad('client', client, 'an ioredis Redis or Cluster instance');
  if (nodes !== undefined && (!Array.isArray(nodes) || nodes.length === 0)) throw bad('nodes', nodes, 'a non-empty array of cluster nodes');
  if (client && nodes) throw bad('nodes', nodes, 'either `client` or `nodes`, not both');
  if (quorum !== undefined && (!Array.isArray(quorum) || quorum.length === 0)) throw bad('quorum', quorum, 'a non-empty array');
  if (quorumCredentials !== 'own' && quorumCredentials !== 'inherit') throw bad('quorumCredentials', quorumCredentials, "'own' or 'inherit'");
  if (options !== undefined) {
    if (!nodes) throw conflict('options', 'holds Redis Cluster options, used only with `nodes`: give connection options at the top level');
    if (!options || typeof options !== 'object') throw bad('options', options, 'an object of ioredis Cluster options');
    refuseUnknownOptions('RedisStorageAdapter', options, CLUSTER_KEYS, 'options.');
    if (options.redisOptions !== undefined) refuseUnknownOptions('RedisStorageAdapter', options.redisOptions ?? {}, NODE_OPTION_KEYS, 'options.redisOptions.');
  }
  checkConflicts(redisOptions, { url, client, nodes, quorum, quorumCredentials });

  // What a quorum entry inherits: the top-level ioredis options but the address, and the credentials
  // only when asked (a server of the quorum has passwords of its own).
  const shared: RedisOptions = { ...redisOptions, commandTimeout };
  for (const key of ADDRESS_KEYS) delete shared[key];
  if (quorumCredentials === 'own') for (const key of CREDENTIAL_KEYS) delete shared[key];
  const quorumTargets = quorum?.map((entry, i) => targetOf(entry, shared, `quorum[${i}]`));
  const hasAddress = url !== undefined || ADDRESS_KEYS.some((key) => redisOptions[key] !== undefined);
  let main: Target | undefined;
  if (client) main = { kind: 'client', client };
  else if (nodes) main = { kind: 'cluster', nodes: nodes as ClusterNode[], options: { ...(options as ClusterOptions), redisOptions: { commandTimeout, ...options?.redisOptions } } };
  else if (!quorumTargets || hasAddress) main = { kind: 'redis', ...(url === undefined ? {} : { url }), options: { ...redisOptions, commandTimeout } };

  return { keyPrefix, ttl, notify, fair, commandTimeout, redlockSettings: redlockOptions as RedlockSettings, filter: redlockFilter, main, quorum: quorumTargets };
};
