/**
 * The examples, run as their header comments say (global setup builds dist/): each ends by itself with
 * exit code 0 and a one-line summary.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNode } from './helpers/run-node.js';
import { startRedis, type RedisServer } from './helpers/redis-servers.js';


/** Runs `node <script>` (no shell) with extra environment, killed after `limit` ms. */
const example = (script: string, env: Record<string, string> = {}, limit = 45_000) => runNode([script], { env, limit });

describe('examples/cluster-file.mjs', () => {
  it('hands out every ticket once across the cluster workers, and exits 0', async () => {
    const { code, stdout, stderr } = await example('examples/cluster-file.mjs');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^cluster-file: 40 requests served by [1-4] of 4 workers with file locks; tickets 1–40 each handed out once\n$/);
  });
});

describe('examples/http-service-redis.mjs', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('reserves exactly one item per checkout through two instances, and exits 0', async () => {
    const { code, stdout, stderr } = await example('examples/http-service-redis.mjs', { REDIS_URL: redis.url });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toBe(`http-service-redis: 30 checkouts through 2 instances, upstream stock 1000 → 970 (exact), locks on Redis at 127.0.0.1:${redis.port}\n`);
    const { Redis } = await import('ioredis');
    const client = new Redis(redis.port, '127.0.0.1');
    try {
      // Every lock released, every line left; only the channels' last fencing tokens stay (a day, by design).
      const left = await client.keys('example-shop:*');
      expect(left.filter((key) => !key.startsWith('example-shop:fence:'))).toEqual([]);
    } finally {
      client.disconnect();
    }
  });

  describe('with UPSTREAM_URL', () => {
    let upstream: Server;
    let url: string;
    let stock = 50;
    let reserved = 0;

    beforeAll(async () => {
      // Another inventory with the same race (read, wait, write): only the locks keep it exact.
      upstream = createServer((req, res) => {
        req.resume();
        const reply = (body: object) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        };
        if (req.url === '/stock') return reply({ stock });
        const seen = stock;
        setTimeout(() => {
          stock = seen - 1;
          reserved++;
          reply({ stock });
        }, 2);
      });
      await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(upstream.address() as { port: number }).port}`;
    });
    afterAll(async () => {
      await new Promise((resolve) => upstream?.close(resolve));
    });

    it('calls the given upstream instead of its own fake', async () => {
      const { code, stdout } = await example('examples/http-service-redis.mjs', { REDIS_URL: redis.url, UPSTREAM_URL: url, CHECKOUTS: '20' });
      expect(code).toBe(0);
      expect(stdout).toMatch(/^http-service-redis: 20 checkouts through 2 instances, upstream stock 50 → 30 \(exact\)/);
      expect({ stock, reserved }).toEqual({ stock: 30, reserved: 20 });
    });
  });
});
