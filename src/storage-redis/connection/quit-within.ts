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

/**
 * Quits `client` and waits for its end, within `ms`; then drops the connection whatever happened. A
 * connection still being set up is let finish first (dropping it mid-handshake leaves ioredis timers).
 */
export const quitWithin = async (client: RedisClient, ms: number): Promise<void> => {
  const started = Date.now();
  if (client.status === 'connecting' || client.status === 'connect') await waitFor(client, ['ready', 'error', 'end'], ms);
  if (client.status === 'ready') {
    const ended = waitFor(client, ['end'], Math.max(0, ms - (Date.now() - started)));
    client.quit().catch(() => undefined);
    await ended;
  }
  if (client.status !== 'end') client.disconnect();
};
