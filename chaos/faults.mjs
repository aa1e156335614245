// The faults the driver injects. Each picks its target, acts, and returns what it did: its kind, when
// (`at`, driver clock), the process hit (`pid`, for a kill or a close), the channels it touched (those
// the process held or waited for; every channel of the adapter for a Redis stall) and a short
// description. It returns undefined when no target exists.
import { command } from './redis.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Relative weights of the fault kinds, per adapter. */
export const KINDS = {
  redis: { 'kill-holder': 2, 'kill-waiter': 2, close: 2, 'debug-sleep': 2, sigstop: 2 },
  file: { 'kill-holder': 1, 'kill-waiter': 1, close: 1 },
};
/** Added by --fencing: faults that break a lease on purpose. */
export const FENCING_KINDS = {
  redis: { 'stall-holder': 4, restart: 2 },
  file: { 'stall-holder': 3 },
};
/** A worker told to stall takes its next acquisition within this many ms, or not at all. */
const STALL_WITHIN = 3000;

const ttlOf = (worker) => (worker.config.adapterOptions.redlockTTL ? `, ttl ${worker.config.adapterOptions.redlockTTL}` : '');

/** A running worker with a request in flight now, or the next one to arrive (within `ms`). */
const holderOf = (pool, { ledger, rng }, ms = 2000) => {
  const isRunning = (pid) => pool.workers.get(pid)?.state === 'running';
  const now = ledger.inflight(pool.channels).filter((entry) => isRunning(entry.pid));
  if (now.length > 0) return Promise.resolve(rng.pick(now));
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      stop();
      resolve(undefined);
    }, ms);
    const stop = ledger.onArrival((entry) => {
      if (!pool.channels.includes(entry.channel) || !isRunning(entry.pid)) return;
      stop();
      clearTimeout(timer);
      resolve(entry);
    });
  });
};

const kill = (pool, worker, ctx, kind, held) => {
  const channels = [...new Set([...held, ...pool.channelsOf(worker)])];
  const at = ctx.now();
  pool.kill(worker);
  return { kind, at, pid: worker.pid, channels, what: `${kind} pid ${worker.pid}${ttlOf(worker)} on ${channels.join(',') || 'nothing'}` };
};

const FAULTS = {
  /** SIGKILL of a process whose request is in flight, so it holds the channel's lock. */
  'kill-holder': async (pool, ctx) => {
    const entry = await holderOf(pool, ctx);
    const worker = entry && pool.workers.get(entry.pid);
    return worker?.state === 'running' ? kill(pool, worker, ctx, 'kill-holder', [entry.channel]) : undefined;
  },

  /** SIGKILL of a process that waits for a lock and has nothing in flight. */
  'kill-waiter': async (pool, ctx) => {
    const holding = new Set(ctx.ledger.inflight(pool.channels).map((entry) => entry.pid));
    const waiters = pool.running().filter((worker) => worker.pending.size > 0 && !holding.has(worker.pid));
    return waiters.length > 0 ? kill(pool, ctx.rng.pick(waiters), ctx, 'kill-waiter', []) : undefined;
  },

  /**
   * `adapter.close()` while the process's callers wait (half the time while one of its requests is
   * in flight too); the worker then exits and is replaced.
   */
  close: async (pool, ctx) => {
    const running = pool.running();
    const holding = new Set(ctx.ledger.inflight(pool.channels).map((entry) => entry.pid));
    const holders = running.filter((worker) => holding.has(worker.pid));
    const busy = running.filter((worker) => worker.pending.size > 0);
    const worker = ctx.rng.pick(holders.length > 0 && ctx.rng.next() < 0.5 ? holders : busy.length > 0 ? busy : running);
    if (!worker) return undefined;
    const channels = pool.channelsOf(worker);
    const at = ctx.now();
    pool.close(worker);
    const what = `close pid ${worker.pid}${ttlOf(worker)} with ${worker.pending.size} calls pending${holding.has(worker.pid) ? ', one in flight' : ''}`;
    return { kind: 'close', at, pid: worker.pid, channels, what };
  },

  /** DEBUG SLEEP on a connection of its own: Redis answers nobody for `ms`. */
  'debug-sleep': async (pool, ctx, ms) => {
    const at = ctx.now();
    const reply = await command(ctx.redis.port, `DEBUG SLEEP ${(ms / 1000).toFixed(3)}`).catch((error) => `-${error.message}`);
    if (!reply.startsWith('+OK')) throw new Error(`DEBUG SLEEP failed: ${reply.trim()}`);
    return { kind: 'debug-sleep', at, channels: pool.channels, what: `debug-sleep ${ms} ms` };
  },

  /** SIGSTOP of redis-server, SIGCONT `ms` later: connections stay open, nothing answers. */
  sigstop: async (pool, ctx, ms) => {
    const at = ctx.now();
    process.kill(ctx.redis.pid, 'SIGSTOP');
    try {
      await sleep(ms);
    } finally {
      process.kill(ctx.redis.pid, 'SIGCONT');
    }
    return { kind: 'sigstop', at, channels: pool.channels, what: `sigstop ${ms} ms` };
  },

  /**
   * --fencing: a holder frozen past its lease between taking the lock and sending. The worker
   * busy-waits its event loop (timers, lease renewals, IPC: everything waits) inside `beforeSend` of
   * its next acquisition for `ctx.leaseFactor` times its lease, then sends. The fault starts when it
   * starts stalling (worker clock); its channels: the stalled one and those the process held or waited for.
   */
  'stall-holder': async (pool, ctx) => {
    const worker = ctx.rng.pick(pool.stallable(ctx.now()));
    if (!worker) return undefined;
    const { lease } = worker.config;
    const stalling = await pool.stall(worker, Math.round(lease * ctx.leaseFactor), ctx.now() + STALL_WITHIN, ctx.now);
    if (!stalling) return undefined;
    const channels = [...new Set([stalling.channel, ...pool.channelsOf(worker)])];
    const what = `stall-holder pid ${worker.pid}, lease ${lease}: call ${stalling.id} on ${stalling.channel} (token ${stalling.token}) stalled ${stalling.ms} ms`;
    // Arrivals during the stall, before this message was handled, count for its wait (see run.mjs).
    return { kind: 'stall-holder', at: stalling.at, pid: worker.pid, channels, what, replay: true };
  },

  /** --fencing: SIGKILL of redis-server and a new, empty one on its port: every lock and token key is lost. */
  restart: async (pool, ctx) => {
    const at = ctx.now();
    await ctx.redis.restart();
    return { kind: 'restart', at, channels: pool.channels, what: `restart (every key lost), down ${Math.round(ctx.now() - at)} ms` };
  },
};

/**
 * Injects one fault of `kind` into `pool`'s adapter; `ms` is the length of a Redis stall (from the
 * schedule), `ctx.leaseFactor` that of a stalled holder in leases.
 */
export const inject = (kind, pool, ctx, ms) => FAULTS[kind](pool, ctx, ms);
