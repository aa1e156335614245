// An HTTP service that reserves stock from an upstream API atomically across its instances, with Redis locks.
//
// Run:  npm run build && REDIS_URL=redis://127.0.0.1:6379 node examples/http-service-redis.mjs
//
// REDIS_URL     the Redis that holds the locks (default redis://127.0.0.1:6379)
// UPSTREAM_URL  the inventory API (GET /stock, POST /reserve); by default a fake one started here, whose
//               POST /reserve is not atomic: it reads the stock, waits a little, then writes it back
// CHECKOUTS     how many checkouts to send (default 30)
//
// Two instances of the service run here, as if on two machines: each has its own alova and its own
// RedisStorageAdapter, so nothing but Redis keeps them apart. Each answers POST /checkout by reserving
// one item upstream inside atomize(..., { channel: 'inventory' }). The script then sends the checkouts,
// spread over both instances and all at once, compares the upstream stock before and after, prints one
// line and exits (0 when the stock went down by exactly the number of checkouts).
import { createServer } from 'node:http';
import { createAlova } from 'alova';
import adapterFetch from 'alova/fetch';
import { atomize } from 'alova-atomize/server';
import RedisStorageAdapter from 'alova-atomize/storage-redis';

const REDIS_URL = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const CHECKOUTS = Number(process.env.CHECKOUTS ?? 30);

const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`)));
const close = (server) => new Promise((resolve) => server.close(resolve));

const json = (res, status, body) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

/** The fake upstream: an inventory with a read-wait-write race in POST /reserve. */
const startInventory = async (stock) => {
  const server = createServer((req, res) => {
    req.resume();
    if (req.method === 'GET' && req.url === '/stock') return json(res, 200, { stock });
    if (req.method !== 'POST' || req.url !== '/reserve') return json(res, 404, { error: 'not found' });
    const seen = stock;
    setTimeout(() => {
      if (seen <= 0) return json(res, 409, { error: 'sold out' });
      stock = seen - 1;
      json(res, 200, { stock });
    }, 3);
  });
  return { url: await listen(server), close: () => close(server) };
};

/** ioredis connection options from a redis:// URL. */
const redisOptions = (url) => ({
  host: url.hostname,
  port: Number(url.port || 6379),
  password: url.password ? decodeURIComponent(url.password) : undefined,
  db: Number(url.pathname.slice(1) || 0),
});

/** One instance of the service. */
const startService = async (name, upstream) => {
  const storage = new RedisStorageAdapter({ ...redisOptions(REDIS_URL), keyPrefix: 'example-shop:' });
  const alova = createAlova({
    baseURL: upstream,
    requestAdapter: adapterFetch(),
    l2Cache: storage, // atomize takes its locks from here
    cacheFor: null,
    responded: async (response) => {
      const body = await response.json();
      if (!response.ok) throw new Error(`inventory answered ${response.status}: ${body.error}`);
      return body;
    },
  });
  const server = createServer(async (req, res) => {
    req.resume();
    if (req.method !== 'POST' || req.url !== '/checkout') return json(res, 404, { error: 'not found' });
    try {
      const { stock } = await atomize(alova.Post('/reserve'), { channel: 'inventory' });
      json(res, 200, { instance: name, stock });
    } catch (error) {
      // LockTimeoutError (code ERR_ATOMIZE_LOCK_TIMEOUT) when the lock was not free within 5 s.
      json(res, error.code === 'ERR_ATOMIZE_LOCK_TIMEOUT' ? 503 : 502, { error: `${error.name}: ${error.message}` });
    }
  });
  const url = await listen(server);
  return {
    url,
    // Graceful stop: no new connections, then release whatever the adapter holds and close its connections.
    close: async () => {
      await close(server);
      await storage.close();
    },
  };
};

const inventory = process.env.UPSTREAM_URL ? undefined : await startInventory(1000);
const upstream = process.env.UPSTREAM_URL ?? inventory.url;
const services = await Promise.all(['a', 'b'].map((name) => startService(name, upstream)));
const stockNow = async () => (await (await fetch(`${upstream}/stock`)).json()).stock;

try {
  const before = await stockNow();
  const answers = await Promise.all(
    Array.from({ length: CHECKOUTS }, (_, i) =>
      fetch(`${services[i % services.length].url}/checkout`, { method: 'POST' }).then((response) => response.json()),
    ),
  );
  const after = await stockNow();
  const failed = answers.filter((answer) => answer.error);
  const done = answers.length - failed.length;
  const exact = failed.length === 0 && before - after === done;
  const verdict = exact ? 'exact' : failed.length ? `${failed.length} failed: ${failed[0].error}` : `expected ${before - done}`;
  console.log(`http-service-redis: ${done} checkouts through ${services.length} instances, upstream stock ${before} → ${after} (${verdict}), locks on Redis at ${REDIS_URL.host}`);
  process.exitCode = exact ? 0 : 1;
} finally {
  await Promise.all(services.map((service) => service.close()));
  await inventory?.close();
}
