// The demo's shop: a small HTTP service whose endpoints are deliberately NOT atomic. Each one reads its
// numbers, waits a little (think: a database round trip), then writes them back. Two calls that overlap
// both read the same value, and the second write erases the first: a lost update. GET and PUT /stock
// are each atomic, but a customer that reads with one and writes back with the other is not.
import { createServer } from 'node:http';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The request's body, parsed as JSON. */
const jsonOf = async (req) => {
  let text = '';
  for await (const chunk of req) text += chunk;
  return JSON.parse(text);
};

/**
 * Starts the shop on a free loopback port. `delay` is the pause, in ms, between read and write.
 *
 * - `POST /buy`     stock - 1                                  (the lock channel 'stock')
 * - `POST /order`   stock - 1 and the next order number        (the channels ['orders', 'stock'])
 * - `POST /restock` stock + 1                                  (the channel 'stock')
 * - `GET  /stock`   the stock; `PUT /stock` sets it            (read, then write back: withLock)
 * - `GET  /state`   the numbers, as JSON
 *
 * After `reset(stock, { fenced: true })`, `POST /buy` first checks the request's `x-fencing-token`
 * with `alova-atomize/fence`: a token older than one already admitted is answered 409, and the shop
 * notes what it would have done without the check (`snapshot().fenced`).
 */
export const startShop = async ({ delay }) => {
  // Imported here, once the demo has checked that the package is built.
  const { createFenceGuard, fenceRequests } = await import('alova-atomize/fence');
  const state = { stock: 0, nextOrder: 1, orders: [] };
  let fence; // the check of the fenced stage: null when the shop takes every write
  let fenced = []; // the fenced stage's /buy requests, in arrival order
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
    'GET /stock': async () => ({ stock: state.stock }),
    'PUT /stock': async (req) => {
      state.stock = (await jsonOf(req)).stock;
      return { stock: state.stock };
    },
    'GET /state': async () => ({ stock: state.stock, nextOrder: state.nextOrder, orders: state.orders.length }),
  };

  /** The fenced stage's check: false when the request was refused (and answered already). */
  const admitted = async (req, res, route) => {
    if (!fence || route !== 'POST /buy') return true;
    const token = req.headers['x-fencing-token'];
    if (await fence(req, res)) {
      fenced.push({ token, status: 200 });
      return true;
    }
    // Refused: note what the shop would have done had it not checked (sold one, answered 200).
    fenced.push({ token, status: res.statusCode, unchecked: { status: 200, stock: { from: state.stock, to: state.stock - 1 } } });
    return false;
  };

  const server = createServer((req, res) => {
    const route = `${req.method} ${new URL(req.url ?? '/', 'http://shop').pathname}`;
    const endpoint = endpoints[route];
    if (route !== 'PUT /stock') req.resume();
    const reply = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (!endpoint) return reply(404, { error: 'no such endpoint' });
    admitted(req, res, route)
      .then((go) => go && endpoint(req).then((body) => reply(200, body)))
      .catch((error) => reply(500, { error: String(error) }));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });

  return {
    url: `http://127.0.0.1:${server.address().port}`,
    /** Opens a new day: `stock` items, no orders yet; `fenced`: /buy checks fencing tokens (a new guard). */
    reset(stock, { fenced = false } = {}) {
      Object.assign(state, { stock, nextOrder: 1, orders: [] });
      fence = fenced ? fenceRequests(createFenceGuard(), { resource: () => 'stock' }) : null;
      fenced = [];
    },
    /** The numbers as they are now, with the order numbers handed out and the fenced stage's requests. */
    snapshot: () => ({ stock: state.stock, orders: [...state.orders], fenced: [...fenced] }),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
