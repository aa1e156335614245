/**
 * The fence guard an upstream runs: a token is admitted when it is at least the highest admitted for
 * its resource, in memory or in one Redis shared by several processes; bad tokens are never admitted.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFenceGuard, InvalidFencingTokenError, type FenceGuard } from '../../src/fence/index.js';
import { startRedis, type RedisServer } from '../helpers/redis-servers.js';
import { spawnFixture } from '../storage-file/helpers.js';
import { optionsOf, uniquePrefix } from '../storage-redis/setup.js';

let server: RedisServer;
let client: Redis;

beforeAll(async () => {
  server = await startRedis();
  client = new Redis(optionsOf(server.url));
});
afterAll(async () => {
  client?.disconnect();
  await server?.stop();
});

const guards: Record<'memory' | 'redis', () => FenceGuard> = {
  memory: () => createFenceGuard(),
  redis: () => createFenceGuard({ redis: client, keyPrefix: uniquePrefix('fence') }),
};

describe.each(['memory', 'redis'] as const)('%s fence guard', (kind) => {
  it('admits a token at least as high as the highest admitted, per resource, and refuses an older one', async () => {
    const guard = guards[kind]();
    expect(await guard.admit('orders', 5)).toBe(true);
    expect(await guard.admit('orders', '5')).toBe(true);
    expect(await guard.admit('orders', 9n)).toBe(true);
    expect(await guard.admit('orders', 8)).toBe(false);
    expect(await guard.admit('orders', '10')).toBe(true);
    expect(await guard.admit('orders', 9)).toBe(false);
    expect(await guard.admit('stock', 1)).toBe(true);
    expect(await guard.admit('orders', '99999999999999999999999')).toBe(true);
    expect(await guard.admit('orders', Number.MAX_SAFE_INTEGER)).toBe(false);
  });

  it.each([-1, 1.5, Number.NaN, Infinity, 2 ** 60, '', ' ', '-3', '1e3', '0x10', '12a', null, undefined, {}, [], -1n])('refuses %s with InvalidFencingTokenError, and records nothing', async (bad) => {
    const guard = guards[kind]();
    expect(await guard.admit('r', 7)).toBe(true);
    await expect(guard.admit('r', bad as never)).rejects.toBeInstanceOf(InvalidFencingTokenError);
    await expect(guard.admit('r', bad as never)).rejects.toMatchObject({ code: 'ERR_ATOMIZE_INVALID_FENCING_TOKEN' });
    expect(await guard.admit('r', 6)).toBe(false);
    expect(await guard.admit('r', 7)).toBe(true);
  });

  it('refuses an empty or non-string resource with a coded TypeError', async () => {
    const guard = guards[kind]();
    await expect(guard.admit('', 1)).rejects.toMatchObject({ name: 'TypeError', code: 'ERR_ATOMIZE_INVALID_OPTION' });
    await expect(guard.admit(3 as never, 1)).rejects.toMatchObject({ name: 'TypeError', code: 'ERR_ATOMIZE_INVALID_OPTION' });
  });
});

describe('redis fence guard across processes', () => {
  it('concurrent admits of one resource from four processes never let the highest go backwards', async () => {
    const keyPrefix = uniquePrefix('fence-procs');
    const all = Array.from({ length: 400 }, (_, i) => i + 1);
    const shares = [0, 1, 2, 3].map((k) => all.filter((token) => token % 4 === k).sort(() => Math.random() - 0.5));
    const startAt = Date.now() + 1500;
    const children = shares.map((tokens) => spawnFixture('fence-admitter.mjs', { url: server.url, keyPrefix, resource: 'r', tokens, startAt }));
    const exits = await Promise.all(children.map((child) => child.exited));
    expect(exits.map((exit) => exit.code)).toEqual([0, 0, 0, 0]);
    const admitted = children.map((child) => JSON.parse(child.lines.at(-1)!) as number[]);
    // 400 is admitted whenever it comes, and nothing is admitted after it anywhere.
    expect(await client.get(`${keyPrefix}r`)).toBe('400');
    for (const list of admitted) {
      for (let i = 1; i < list.length; i++) expect(list[i]).toBeGreaterThanOrEqual(list[i - 1]!);
    }
    expect(admitted.flat()).toContain(400);
  });
});
