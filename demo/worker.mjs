// One customer process of the demo, forked by demo/run.mjs. It calls the shop through alova, with or
// without atomize, one request after another, and reports to its parent over IPC. Like any user of the
// package it imports the built entry points by the package's name (a package may import itself through
// its own `exports`), never src/.
import { createAlova } from 'alova';
import adapterFetch from 'alova/fetch';
import { atomize } from 'alova-atomize/server';

const report = (message) => void (process.connected && process.send(message));

// The parent may die without telling us: then there is nobody to report to.
process.on('disconnect', () => process.exit(0));

/** The l2Cache that provides the locks: files in a directory, or a Redis. */
const storageOf = async (backend) => {
  if (backend.kind === 'redis') {
    const { default: RedisStorageAdapter } = await import('alova-atomize/storage-redis');
    return new RedisStorageAdapter(backend.options);
  }
  const { default: FileStorageAdapter } = await import('alova-atomize/storage-file');
  return new FileStorageAdapter({ directory: backend.directory });
};

/** What request number `i` of worker `worker` does in each phase. */
const PLANS = {
  unprotected: () => ({ kind: 'buy', path: '/buy' }),
  atomize: () => ({ kind: 'buy', path: '/buy', channel: 'stock' }),
  mixed: (i, worker) =>
    (i + worker) % 2 === 0
      ? { kind: 'order', path: '/order', channel: ['orders', 'stock'] }
      : { kind: 'restock', path: '/restock', channel: 'stock' },
};

let storage;
let alova;
let sentAt = 0;

const setup = async ({ shopUrl, backend }) => {
  storage = await storageOf(backend);
  alova = createAlova({
    baseURL: shopUrl,
    requestAdapter: adapterFetch(),
    l2Cache: storage,
    cacheFor: null,
    // Called when the request really leaves, that is, once atomize holds the lock: the lock wait ends.
    beforeRequest: () => void (sentAt = performance.now()),
    responded: async (response) => {
      if (!response.ok) throw new Error(`the shop answered HTTP ${response.status}`);
      return response.json();
    },
  });
  await alova.Get('/state'); // opens the connection, so that every worker starts warm
};

const run = async ({ phase, requests, worker, timeout }) => {
  const counts = { buy: 0, order: 0, restock: 0 };
  const waits = [];
  const failures = [];
  for (let i = 0; i < requests; i++) {
    const { kind, path, channel } = PLANS[phase](i, worker);
    const method = alova.Post(path);
    const started = performance.now();
    try {
      await (channel ? atomize(method, { channel, timeout }) : method);
      counts[kind]++;
      if (channel) waits.push(sentAt - started);
    } catch (error) {
      failures.push(`${error?.name ?? 'Error'}: ${error?.message ?? error}`);
    }
    report({ type: 'progress', worker, done: i + 1 });
  }
  report({ type: 'result', worker, counts, waits, failed: failures.length, firstFailure: failures[0] });
};

/** Closes the adapter (its locks and connections), then lets the process end. */
const exit = async () => {
  try {
    await storage?.close?.();
  } finally {
    process.disconnect();
  }
};

process.on('message', (message) => {
  const task = { setup, run, exit }[message.type];
  task(message).then(
    () => message.type === 'setup' && report({ type: 'ready' }),
    (error) => {
      report({ type: 'failed', message: `${error?.name ?? 'Error'}: ${error?.message ?? error}` });
      process.exitCode = 1;
    },
  );
});
