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

/** Sends PING and waits at most `ms` for PONG; rejects with a one-line DemoError otherwise. */
const ping = async (url, ms) => {
  let Redis;
  try {
    ({ Redis } = await import('ioredis'));
  } catch {
    throw new DemoError('the Redis run needs ioredis: npm install ioredis');
  }
  const client = new Redis(url.href, {
    lazyConnect: true,
    connectTimeout: ms,
    commandTimeout: ms,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    disconnectTimeout: 0, // never keep the process alive for a server that does not answer
  });
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
 * Redis: checked with a PING first (2 s at most). The demo's keys get a prefix of their own, so it
 * cannot touch anything else on that server, nor another demo running at the same time.
 */
export const redisBackend = async (url) => {
  await ping(url, 2000);
  const keyPrefix = `alova-atomize-demo:${randomUUID().slice(0, 8)}:`;
  return {
    name: 'redis',
    where: `Redis at ${shown(url)}`,
    worker: { kind: 'redis', options: { ...redisOptionsOf(url), keyPrefix } },
    dispose: () => undefined,
  };
};
