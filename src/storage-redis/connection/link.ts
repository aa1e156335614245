import type { Redis } from 'ioredis';
import type { RedisClient } from '../options.js';
import { quitWithin } from './quit-within.js';

/** A connection the adapter uses: whether it opened it, a name for messages, its last connection error. */
export interface Link {
  readonly client: RedisClient;
  /** Opened by the adapter, so closed by it. */
  readonly owned: boolean;
  /** `host:port`, or the cluster's startup nodes, for error messages. */
  readonly name: string;
  /** The last 'error' event since the connection was last ready. */
  readonly lastError: Error | undefined;
  /** Settles once the first connection attempt is over (at once for a client not yet asked to connect). */
  readonly settled: Promise<void>;
  /** The first connection attempt is still going on. */
  readonly pending: boolean;
  /** Not ready, and the last connection attempt failed: commands would only wait for a timeout. */
  readonly down: boolean;
  /**
   * Stops listening; quits the connection when owned (bounded by `ms`, then disconnects), leaving on it
   * a no-op 'error' listener for good. Idempotent.
   */
  close(ms: number): Promise<void>;
}

const nameOf = (client: RedisClient): string => {
  if (client.isCluster) {
    const nodes = ((client as unknown as { startupNodes?: unknown[] }).startupNodes ?? []).map((n) =>
      typeof n === 'object' && n ? `${(n as { host?: string }).host ?? '127.0.0.1'}:${(n as { port?: number }).port ?? 6379}` : String(n),
    );
    return `cluster ${nodes.join(',')}`;
  }
  const { host, port, path } = (client as Redis).options;
  return path ?? `${host ?? 'localhost'}:${port ?? 6379}`;
};

/** Wraps a client: listens to its 'error' events (so none goes unhandled) and remembers the last one. */
export const linkOf = (client: RedisClient, owned: boolean): Link => {
  let lastError: Error | undefined;
  let settle: (() => void) | undefined;
  let pending = !(client.status === 'ready' || client.status === 'wait' || client.status === 'end');
  const settled = pending ? new Promise<void>((resolve) => (settle = resolve)) : Promise.resolve();
  const attempted = (): void => {
    pending = false;
    settle?.();
  };
  const onError = (error: Error): void => {
    lastError = error;
    attempted();
  };
  const onReady = (): void => {
    lastError = undefined;
    attempted();
  };
  client.on('error', onError);
  client.on('ready', onReady);
  const onEnd = attempted;
  client.once('end', onEnd);
  let closing: Promise<void> | undefined;
  const close = async (ms: number): Promise<void> => {
    if (owned) {
      // A socket still failing (a TLS handshake with a plain server, a server that never answered)
      // may report its error after we gave up on it, even after 'end': a connection of ours keeps a
      // no-op listener for good (it is never used again), so ioredis never logs "Unhandled error event".
      client.on('error', ignore);
      await quitWithin(client, ms);
    }
    client.off('error', onError);
    client.off('ready', onReady);
    client.off('end', onEnd);
  };
  return {
    client,
    owned,
    name: nameOf(client),
    get lastError() {
      return lastError;
    },
    get pending() {
      return pending;
    },
    get down() {
      return lastError !== undefined && client.status !== 'ready';
    },
    settled,
    close: (ms) => (closing ??= close(ms)),
  };
};

const ignore = (): void => undefined;
