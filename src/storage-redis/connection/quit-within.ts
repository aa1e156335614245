import type { Cluster, Redis } from 'ioredis';
import type { RedisClient } from '../options.js';

/** Resolves on the first of `events`, or after `ms`. */
const waitFor = (client: RedisClient, events: string[], ms: number): Promise<void> =>
  new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      for (const event of events) client.off(event, done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    for (const event of events) client.once(event, done);
  });

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** ioredis's default `disconnectTimeout`, ms. */
const IOREDIS_DISCONNECT_TIMEOUT = 2000;
/** Time for a destroyed socket's 'close' to reach ioredis, ms. */
const SLACK_MS = 100;

/**
 * Quits `client` and waits for its end, within `ms`; then drops the connection whatever happened, and
 * resolves once ioredis holds nothing more for it: no socket, no reconnect timer, no disconnect timer.
 * A connection still being set up is let finish first (dropping it mid-handshake leaves ioredis timers).
 *
 * A connection that is not ready (its server is down: ioredis waits to reconnect) cannot QUIT: it is
 * dropped at once, which cancels the reconnect. Its socket is closed already, so ioredis's disconnect
 * timer (`disconnectTimeout`, 0 on the adapter's own connections) is never cleared by a 'close' and
 * runs out by itself: this waits for it, and only then resolves.
 */
export const quitWithin = async (client: RedisClient, ms: number): Promise<void> => {
  const started = Date.now();
  const left = (): number => Math.max(0, ms - (Date.now() - started));
  if (client.status === 'connecting' || client.status === 'connect') await waitFor(client, ['ready', 'error', 'end'], ms);
  if (client.status === 'ready') {
    const ended = waitFor(client, ['end'], left());
    client.quit().catch(() => undefined);
    await ended;
  }
  if (client.status === 'end') return;
  // A cluster ends when its nodes have; a single connection once its open socket closed ('end' never
  // comes for one whose socket had closed already: it stays 'reconnecting', its timer cancelled).
  const stream = client.isCluster ? undefined : (client as Redis).stream;
  const open = client.isCluster || (stream !== undefined && stream !== null && !stream.destroyed);
  const options = (client.isCluster ? (client as Cluster).options.redisOptions : client.options) as { disconnectTimeout?: number } | undefined;
  const linger = options?.disconnectTimeout ?? IOREDIS_DISCONNECT_TIMEOUT;
  // An open socket is ended, and destroyed after `linger` when it did not close by then.
  const ended = open ? waitFor(client, ['end'], linger + SLACK_MS) : undefined;
  client.disconnect();
  await ended;
  // Made after ioredis's timer of the same length, so it runs after it.
  if (stream && !open) await sleep(linger);
};
