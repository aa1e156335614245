// One customer process of the demo, forked by demo/run.mjs. It calls the shop through alova, with or
// without atomize (or withLock), one request after another, and reports to its parent over IPC; in the
// fencing stage it is the holder that stalls, or the one that takes over (demo/fencing.mjs). Like any
// user of the package it imports the built entry points by the package's name (a package may import
// itself through its own `exports`), never src/.
import { existsSync } from 'node:fs';
import { createAlova } from 'alova';
import adapterFetch from 'alova/fetch';
import { atomize, withLock } from 'alova-atomize/server';

const report = (message) => void (process.connected && process.send(message));
const named = (error) => `${error?.name ?? 'Error'}: ${error?.message ?? error}`;

// The parent may die without telling us: then there is nobody to report to.
process.on('disconnect', () => process.exit(0));

/**
 * The l2Cache that provides the locks: files in a directory, or a Redis. `lease`, in ms, shortens the
 * locks' lease, for the fencing stage: a file lock counts as abandoned that long after its last
 * renewal (`stale`), a Redis lock expires that long after it (`redlockTTL`).
 */
const storageOf = async (backend, lease) => {
  if (backend.kind === 'redis') {
    const { default: RedisStorageAdapter } = await import('alova-atomize/storage-redis');
    return new RedisStorageAdapter({ ...backend.options, ...(lease && { redlockTTL: lease }) });
  }
  const { default: FileStorageAdapter } = await import('alova-atomize/storage-file');
  return new FileStorageAdapter({ directory: backend.directory, ...(lease && { lockerOptions: { stale: lease } }) });
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

/**
 * Read, then write back: one sale as GET /stock, then PUT /stock with stock - 1, locked two ways:
 * `each` atomizes every request alone (channel 'stock'), `withLock` holds one lock around both.
 * Each resolves the lock waits it measured.
 */
const READ_WRITE = {
  each: async (timeout) => {
    const waits = [];
    const locked = async (method) => {
      const started = performance.now();
      const body = await atomize(method, { channel: 'stock', timeout });
      waits.push(sentAt - started);
      return body;
    };
    const { stock } = await locked(alova.Get('/stock'));
    await locked(alova.Put('/stock', { stock: stock - 1 }));
    return waits;
  },
  withLock: async (timeout) => {
    const started = performance.now();
    let wait;
    await withLock(alova, 'stock', { timeout }, async ({ signal }) => {
      wait = performance.now() - started;
      const { stock } = await alova.Get('/stock');
      signal.throwIfAborted(); // the lock was lost meanwhile: write nothing
      await alova.Put('/stock', { stock: stock - 1 });
    });
    return [wait];
  },
};

/** What a request-at-a-time phase does for request `i`: the shop's answer, and the lock wait if locked. */
const callOf = (phase) => async (i, worker, timeout) => {
  const { kind, path, channel } = PLANS[phase](i, worker);
  const method = alova.Post(path);
  const started = performance.now();
  await (channel ? atomize(method, { channel, timeout }) : method);
  return { kind, waits: channel ? [sentAt - started] : [] };
};

const CALLS = {
  ...Object.fromEntries(Object.keys(PLANS).map((phase) => [phase, callOf(phase)])),
  'read-write': async (_i, _worker, timeout) => ({ kind: 'buy', waits: await READ_WRITE.each(timeout) }),
  'with-lock': async (_i, _worker, timeout) => ({ kind: 'buy', waits: await READ_WRITE.withLock(timeout) }),
};

let storage;
let alova;
let sentAt = 0;
let settings; // what setup was given
let short; // the fencing stage's adapter and alova

const alovaOf = (shopUrl, l2Cache) =>
  createAlova({
    baseURL: shopUrl,
    requestAdapter: adapterFetch(),
    l2Cache,
    cacheFor: null,
    // Called when the request really leaves, that is, once atomize holds the lock: the lock wait ends.
    beforeRequest: () => void (sentAt = performance.now()),
    responded: async (response) => {
      if (!response.ok) throw new Error(`the shop answered HTTP ${response.status}`);
      return response.json();
    },
  });

const setup = async ({ shopUrl, backend }) => {
  settings = { shopUrl, backend };
  storage = await storageOf(backend);
  alova = alovaOf(shopUrl, storage);
  await alova.Get('/state'); // opens the connection, so that every worker starts warm
};

/** The fencing stage's alova, on an adapter of its own with a short lease (made when first needed). */
const shortLease = async (lease) => {
  if (!short) {
    const shortStorage = await storageOf(settings.backend, lease);
    short = { storage: shortStorage, alova: alovaOf(settings.shopUrl, shortStorage) };
    await short.alova.Get('/state');
  }
  return short.alova;
};

const run = async ({ phase, requests, worker, timeout }) => {
  const counts = { buy: 0, order: 0, restock: 0 };
  const waits = [];
  const failures = [];
  for (let i = 0; i < requests; i++) {
    try {
      const call = await CALLS[phase](i, worker, timeout);
      counts[call.kind]++;
      waits.push(...call.waits);
    } catch (error) {
      failures.push(named(error));
    }
    report({ type: 'progress', worker, done: i + 1 });
  }
  report({ type: 'result', worker, counts, waits, failed: failures.length, firstFailure: failures[0] });
};

/** The fencing stage's buy: atomize on 'stock' with the lock's fencing token in `x-fencing-token`. */
const fencedBuy = (timeout, beforeSend) =>
  atomize(short.alova.Post('/buy'), { channel: 'stock', timeout, fencingHeader: 'x-fencing-token', beforeSend }).then(
    () => ({ ok: true }),
    (error) => ({ ok: false, error: named(error) }),
  );

/**
 * The stalled holder: takes the lock, then, between taking it and sending, blocks its event loop
 * (nothing of the process runs, its lease is not renewed) until the parent creates `wakeFile`, or
 * `limit` ms at most. Then the request leaves with the token of the lock it held.
 */
const stall = async ({ lease, timeout, wakeFile, limit }) => {
  let token;
  let frozen = 0;
  await shortLease(lease);
  const { warnings, stop } = releaseWarnings();
  const outcome = await fencedBuy(timeout, async (_method, lock) => {
    token = lock.tokens.stock;
    await new Promise((resolve) => process.send({ type: 'holding', token }, resolve));
    const started = performance.now();
    const nap = new Int32Array(new SharedArrayBuffer(4));
    while (!existsSync(wakeFile) && performance.now() - started < limit) Atomics.wait(nap, 0, 0, 5);
    frozen = performance.now() - started;
  });
  await stop();
  report({ type: 'stalled', token, frozen, ...outcome, releaseWarning: warnings[0] });
};

/**
 * A release that finds its lock taken over is a process warning (LockReleaseError), printed on stderr
 * by default. The stalled customer expects it: it collects such warnings instead, and tells them to
 * the parent; any other warning is printed as usual. `stop()` waits for late warnings, then restores.
 */
const releaseWarnings = () => {
  const printers = process.listeners('warning');
  const warnings = [];
  const onWarning = (warning) => {
    if (warning?.code === 'ERR_ATOMIZE_RELEASE') warnings.push(named(warning));
    else for (const print of printers) print(warning);
  };
  process.removeAllListeners('warning').on('warning', onWarning);
  const stop = async () => {
    await new Promise((resolve) => setImmediate(resolve));
    process.removeListener('warning', onWarning);
    for (const print of printers) process.on('warning', print);
  };
  return { warnings, stop };
};

/** The next customer: waits for the lock (free once the stalled holder's lease ran out), then buys. */
const takeOver = async ({ lease, timeout }) => {
  await shortLease(lease);
  const started = performance.now();
  let token;
  let waited = 0;
  const outcome = await fencedBuy(timeout, (_method, lock) => {
    token = lock.tokens.stock;
    waited = performance.now() - started;
  });
  report({ type: 'took-over', token, waited, ...outcome });
};

/** Closes the adapters (their locks and connections), then lets the process end. */
const exit = async () => {
  try {
    await Promise.all([storage?.close?.(), short?.storage.close?.()]);
  } finally {
    process.disconnect();
  }
};

process.on('message', (message) => {
  const task = { setup, run, stall, 'take-over': takeOver, exit }[message.type];
  task(message).then(
    () => message.type === 'setup' && report({ type: 'ready' }),
    (error) => {
      report({ type: 'failed', message: `${error?.name ?? 'Error'}: ${error?.message ?? error}` });
      process.exitCode = 1;
    },
  );
});
