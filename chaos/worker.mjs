// One chaos worker process, spawned by chaos/run.mjs. It runs a few concurrent loops of atomized
// calls (a random channel, a short request) against the ledger through the BUILT package, and
// reports each call to the driver over IPC: { t: 'start', id, channel }, then { t: 'end', id, ok, ... }.
// The driver answers our { t: 'hello' } with the config; later it may send { t: 'close' }: report
// { t: 'closing', at, ids } (the time just before close(), on the clock of every process of this
// machine, and the requests in flight then), close the adapter under the waiting callers, give them
// `drainMs` to settle, report { t: 'closed' } and exit.
//
// With `config.fencing` every call sends its fencing token (header x-fencing-token) and, through
// `beforeSend`, the time its lock was taken (`acquiredAt`, the ledger's clock). A 409 of the ledger is
// a stale write refused: reported as { t: 'end', ok: false, refused: true }. The driver may send
// { t: 'stall', ms, until }: the next acquisition of this process taken before `until` busy-waits
// the event loop inside `beforeSend` for `ms` (a holder frozen past its lease), after reporting
// { t: 'stalling', id, channel, token, at, ms }.
import { createAlova } from 'alova';
import adapterFetch from 'alova/fetch';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRng } from './rng.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const load = (entry) => import(pathToFileURL(resolve(root, 'dist', entry, 'index.js')).href);
const send = (message, done) => {
  if (process.connected) process.send(message, done);
  else done?.();
};

// The driver may die without telling us: never outlive it.
process.on('disconnect', () => process.exit(0));

const config = await new Promise((resolve) => {
  process.once('message', resolve);
  send({ t: 'hello' });
});
const { atomize } = await load('server');
const Adapter = (await load(`storage-${config.adapter}`)).default;
const adapter = new Adapter(config.adapterOptions);
/** The ledger's clock: absolute ms, comparable across the processes of one machine. */
const clock = () => performance.timeOrigin + performance.now();
// The ids of the requests handed to fetch whose call has not ended: in flight from this side.
const sent = new Set();
const fetchAdapter = adapterFetch();
const alova = createAlova({
  baseURL: config.url,
  requestAdapter: (elements, method) => {
    sent.add(method.config.params.id);
    return fetchAdapter(elements, method);
  },
  l2Cache: adapter,
  cacheFor: null,
  responded: (response) => {
    if (response.status === 409) throw Object.assign(new Error('stale write refused by the ledger (409)'), { name: 'StaleWriteRefused', refused: true });
    return response.json();
  },
});
// Warm up the backend connection; a stalled Redis may refuse it, which the loops then meet anyway.
await adapter.get('chaos-warm-up').catch(() => undefined);

const rng = createRng(config.seed);
const pending = new Map(); // call id -> channel
let open = true;
let next = 0;
let stall; // { ms, until } from the driver, until an acquisition takes it

/** --fencing: runs under the locks, right after they were taken, before the request is sent. */
const beforeSend = (id, channel) => (method, lock) => {
  const acquiredAt = clock();
  method.config.params = { ...method.config.params, acquiredAt: acquiredAt.toFixed(3) };
  if (!stall) return;
  const { ms, until } = stall;
  stall = undefined;
  if (acquiredAt > until) return;
  send({ t: 'stalling', id, channel, token: lock.tokens[channel], at: clock(), ms });
  // Frozen: no timer (lease renewal, staleness update), no I/O, no IPC runs until the end.
  const end = clock() + ms;
  while (clock() < end);
};

const call = async (channel, ms) => {
  const id = ++next;
  pending.set(id, channel);
  send({ t: 'start', id, channel });
  const method = alova.Get('/work', { params: { channel, ms, pid: process.pid, id } });
  const options = { channel, timeout: config.timeout, interval: config.interval };
  if (config.fencing) Object.assign(options, { fencingHeader: 'x-fencing-token', beforeSend: beforeSend(id, channel) });
  try {
    await (config.unsafe ? method.send(true) : atomize(method, options));
    send({ t: 'end', id, ok: true });
  } catch (error) {
    const message = String(error?.message ?? error).split('\n')[0];
    send({ t: 'end', id, ok: false, name: error?.name ?? 'Error', code: error?.code, message, refused: error?.refused === true });
  } finally {
    pending.delete(id);
    sent.delete(id);
  }
};

// A random channel among those with fewer than `perChannel` calls of this process: a channel blocked
// for a whole lease (its holder was killed) then holds some loops, never all of them.
const channelToCall = () => {
  const busy = (channel) => [...pending.values()].filter((c) => c === channel).length;
  return rng.pick(config.channels.filter((channel) => busy(channel) < config.perChannel));
};
const loop = async () => {
  while (open) await call(channelToCall(), rng.int(config.minMs, config.maxMs));
};
const loops = Array.from({ length: config.loops }, loop);
send({ t: 'ready' });

process.on('message', async (message) => {
  if (message?.t === 'stall') stall = { ms: message.ms, until: message.until };
  if (message?.t !== 'close' || !open) return;
  open = false;
  // Taken and sent right before close(), which aborts the requests in flight before it releases
  // their locks: the ledger ends those requests here (see chaos/ledger.mjs). Under --unsafe nothing
  // holds a lock, close() aborts nothing, and no request is named.
  const at = clock();
  send({ t: 'closing', at, ids: config.unsafe ? [] : [...sent] });
  const started = performance.now();
  const closed = await adapter.close().then(
    () => 'ok',
    (error) => `${error?.name}: ${error?.message}`,
  );
  const closeMs = Math.round(performance.now() - started);
  // The pending calls should reject now; give them a bounded moment, then report who did not.
  const timer = new Promise((r) => setTimeout(r, message.drainMs ?? config.drainMs));
  await Promise.race([Promise.allSettled(loops), timer]);
  send({ t: 'closed', closed, closeMs, stuck: pending.size }, () => process.exit(0));
});
