import { LockerConfigError, LockerUnavailableError } from '../shared/errors.js';
import type { LockInspection } from '../shared/inspection.js';

/** A backend opened for inspection. */
export interface Inspector {
  inspect(channel: string): Promise<LockInspection>;
  /** Closes what was opened. Never rejects. */
  close(): Promise<void>;
}

/** Bound of the connection (TCP, TLS, AUTH and ready check), ms. */
const CONNECT_MS = 3000;
/** Bound of each command, ms. */
const COMMAND_MS = 2000;

/** The URL with its password masked, for messages. */
const shown = (url: string): string => {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.href;
  } catch {
    return url;
  }
};

/**
 * Connects to the Redis at `url` once, failing fast: the connection is bounded, never retried, and
 * commands never queue while it is down. Then a `RedisStorageAdapter` on that connection reads the
 * channels. ioredis is loaded only here (it is an optional peer dependency).
 */
export const openRedis = async (url: string, prefix: string | undefined): Promise<Inspector> => {
  const { Redis } = await import('ioredis').catch((error: unknown) => {
    throw new LockerConfigError('--redis needs the ioredis package: npm install ioredis', error);
  });
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: CONNECT_MS,
    commandTimeout: COMMAND_MS,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    // ioredis waits this long for a socket to close after `disconnect()`, even one that failed to
    // connect, and its timer keeps the process alive meanwhile.
    disconnectTimeout: 200,
  });
  let last: Error | undefined;
  client.on('error', (error: Error) => (last = error));
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect(),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${CONNECT_MS} ms`)), CONNECT_MS))),
    ]);
  } catch (error) {
    client.disconnect();
    const why = last?.message ?? (error as Error).message;
    throw new LockerUnavailableError(`cannot reach Redis at ${shown(url)}: ${why}`, last ?? error);
  } finally {
    clearTimeout(timer);
  }
  const { RedisStorageAdapter } = await import('../storage-redis/index.js');
  const adapter = new RedisStorageAdapter({ client, notify: false, commandTimeout: COMMAND_MS, ...(prefix === undefined ? {} : { keyPrefix: prefix }) });
  return {
    inspect: (channel) => adapter.inspect(channel),
    close: async () => {
      await adapter.close().catch(() => undefined);
      client.disconnect();
    },
  };
};
