/**
 * Process lifecycle, with real child processes (test/fixtures/lifecycle.mjs, the built package): a
 * script ends by itself once what it opened is closed, and `close()` resolves only when the adapter's
 * connections and timers are gone (also with its Redis server down). The time bounds only catch hangs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from './helpers/redis-servers.js';
import { runNode } from './helpers/run-node.js';

const lifecycle = (config: object) => runNode(['test/fixtures/lifecycle.mjs', JSON.stringify(config)], { limit: 30_000 });

/** The fixture's report: `start`, `{ closeMs, left }`, then `exit <ms after the report>`. */
const reportOf = (stdout: string): { closeMs: number; left: string[]; exitLag: number } => {
  const [start, json, exit] = stdout.trim().split('\n');
  expect(start).toBe('start');
  return { ...(JSON.parse(json!) as { closeMs: number; left: string[] }), exitLag: Number(/^exit (\d+)$/.exec(exit ?? '')?.[1] ?? NaN) };
};

describe('a script with the Redis adapter', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('on its own ioredis client (`{ client }`) exits by itself once it quit that client', async () => {
    const run = await lifecycle({ scenario: 'client-quit', url: redis.url });
    expect(run.stderr).toBe('');
    // Killed at the limit (code null) when the adapter's subscriber kept the process alive.
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^quit\nexit \d+\n$/);
    expect(run.ms).toBeLessThan(10_000);
  });

  it('close() leaves no connection and no timer behind, and the process exits at once', async () => {
    const run = await lifecycle({ scenario: 'redis-close', url: redis.url });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = reportOf(run.stdout);
    expect(report.left).toEqual([]);
    expect(report.exitLag).toBeLessThan(1500);
  });

  it('close() with the Redis server down: no reconnect or disconnect timer left, the process exits at once', async () => {
    const down = await startRedis();
    try {
      const run = await lifecycle({ scenario: 'redis-close', url: down.url, redisPid: down.child.pid });
      expect(run.code).toBe(0);
      const report = reportOf(run.stdout);
      // ioredis's reconnect and disconnect timers kept the process alive 2 s after close() resolved.
      expect(report.left).toEqual([]);
      expect(report.exitLag).toBeLessThan(1500);
    } finally {
      await down.stop();
    }
  });
});

describe('a script with the file adapter', () => {
  let directory: string;
  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'atomize-lifecycle-'));
  });
  afterAll(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  it('close() leaves no watcher, timer or file operation behind, and the process exits at once', async () => {
    const run = await lifecycle({ scenario: 'file-close', directory });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = reportOf(run.stdout);
    expect(report.left).toEqual([]);
    expect(report.exitLag).toBeLessThan(1500);
  });
});
