// Where the demo's locks live: files in a fresh temporary directory, or a Redis given by the user.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DemoError, redisOptionsOf, shown } from './cli.mjs';

/** Files: a temporary directory, removed by `dispose` (also when the demo is interrupted). */
export const fileBackend = () => {
  const directory = mkdtempSync(join(tmpdir(), 'alova-atomize-demo-'));
  return {
    name: 'file',
    where: `files in ${directory}`,
    worker: { kind: 'file', directory },
    dispose: () => rmSync(directory, { recursive: true, force: true }),
  };
};

/** A client that gives up at once: `ms` to connect and for each command, no retries. */
const clientOf = async (url, ms) => {
  let Redis;
  try {
    ({ Redis } = await import('ioredis'));
  } catch {
    throw new DemoError('the Redis run needs ioredis: npm install ioredis');
  }
  return new Redis(url.href, {
    lazyConnect: true,
    connectTimeout: ms,
    commandTimeout: ms,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    disconnectTimeout: 0, // never keep the process alive for a server that does not answer
  });
};

/** Sends PING and waits at most `ms` for PONG; rejects with a one-line DemoError otherwise. */
const ping = async (url, ms) => {
  const client = await clientOf(url, ms);
  let cause; // the socket's error says more than the rejection ("Connection is closed.")
  client.on('error', (error) => void (cause ??= error));
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer to PING within ${ms / 1000} s`)), ms);
  });
  try {
    await Promise.race([client.connect().then(() => client.ping()), late]);
  } catch (error) {
    throw new DemoError(`cannot reach Redis at ${shown(url)}: ${(cause ?? error)?.message ?? error}`);
  } finally {
    clearTimeout(timer);
    if (client.status !== 'end') client.disconnect();
  }
};

/**
 * Removes every key under `keyPrefix`: the adapters remove their locks and lines, but keep each
 * channel's last fencing token (a day), so that tokens keep growing; the demo needs none of it after.
 */
const removeKeys = async (url, keyPrefix) => {
  const client = await clientOf(url, 2000);
  client.on('error', () => undefined);
  try {
    await client.connect();
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 100);
      if (keys.length > 0) await client.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
};

/**
 * Redis: checked with a PING first (2 s at most). The demo's keys get a prefix of their own, so it
 * cannot touch anything else on that server, nor another demo running at the same time; they are
 * removed at the end.
 */
export const redisBackend = async (url) => {
  await ping(url, 2000);
  const keyPrefix = `alova-atomize-demo:${randomUUID().slice(0, 8)}:`;
  return {
    name: 'redis',
    where: `Redis at ${shown(url)}`,
    worker: { kind: 'redis', options: { ...redisOptionsOf(url), keyPrefix } },
    dispose: () => removeKeys(url, keyPrefix),
  };
};
