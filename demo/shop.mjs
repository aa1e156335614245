// The demo's shop: a small HTTP service whose endpoints are deliberately NOT atomic. Each one reads its
// numbers, waits a little (think: a database round trip), then writes them back. Two calls that overlap
// both read the same value, and the second write erases the first: a lost update.
import { createServer } from 'node:http';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts the shop on a free loopback port. `delay` is the pause, in ms, between read and write.
 *
 * - `POST /buy`     stock - 1                                  (the lock channel 'stock')
 * - `POST /order`   stock - 1 and the next order number        (the channels ['orders', 'stock'])
 * - `POST /restock` stock + 1                                  (the channel 'stock')
 * - `GET  /state`   the numbers, as JSON
 */
export const startShop = async ({ delay }) => {
  const state = { stock: 0, nextOrder: 1, orders: [] };
  const endpoints = {
    'POST /buy': async () => {
      const stock = state.stock;
      await sleep(delay);
      state.stock = stock - 1;
      return { stock: state.stock };
    },
    'POST /order': async () => {
      const { stock, nextOrder } = state;
      await sleep(delay);
      state.stock = stock - 1;
      state.nextOrder = nextOrder + 1;
      state.orders.push(nextOrder);
      return { order: nextOrder };
    },
    'POST /restock': async () => {
      const stock = state.stock;
      await sleep(delay);
      state.stock = stock + 1;
      return { stock: state.stock };
    },
    'GET /state': async () => ({ stock: state.stock, nextOrder: state.nextOrder, orders: state.orders.length }),
  };

  const server = createServer((req, res) => {
    req.resume();
    const endpoint = endpoints[`${req.method} ${new URL(req.url ?? '/', 'http://shop').pathname}`];
    const reply = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (!endpoint) return reply(404, { error: 'no such endpoint' });
    endpoint().then((body) => reply(200, body), (error) => reply(500, { error: String(error) }));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });

  return {
    url: `http://127.0.0.1:${server.address().port}`,
    /** Opens a new day: `stock` items, no orders yet. */
    reset(stock) {
      Object.assign(state, { stock, nextOrder: 1, orders: [] });
    },
    /** The numbers as they are now, with the order numbers handed out. */
    snapshot: () => ({ stock: state.stock, orders: [...state.orders] }),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
