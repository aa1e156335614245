// `npm run chaos`: a seeded fault soak of atomize, across real processes. See chaos/README.md.
//
// Worker processes (chaos/worker.mjs) call atomize on three channels per adapter against the ledger
// (chaos/ledger.mjs), which logs when each request was worked on, per channel. Meanwhile one fault
// loop per adapter injects faults at seeded random times (chaos/faults.mjs); killed and closed workers
// are replaced. Once every worker has exited, the ledger's log is evaluated for overlaps; the run ends
// with one line, exit 0 only when there was none. With --fencing the ledger admits requests by their
// fencing token, faults that break leases are added, and exit 0 means no stale write was accepted.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseFlags, SetupError, USAGE } from './cli.mjs';
import { FENCING_KINDS, inject, KINDS } from './faults.mjs';
import { startLedger } from './ledger.mjs';
import { Pool } from './pool.mjs';
import { startRedis } from './redis.mjs';
import { createRng } from './rng.mjs';
import { createWaits } from './waits.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The Redis leases a worker draws from; the file adapter's lease (`stale`) is the shortest of them. */
const TTLS = [2000, 5000, 30_000];
const FILE_STALE = 2000;
/** --fencing: shorter leases, so that the faults that break them cost little time (drawn from [min, max]). */
const FENCING_TTL = { min: 1000, max: 2000 };
/** --fencing: a stalled holder freezes for this many of its leases, in hundredths (drawn from [min, max]). */
const LEASE_FACTOR = { min: 150, max: 300 };
/** --fencing: an admitted request is stale when its lock was taken this much before another's admitted earlier. */
const STALE_TOLERANCE = 20;
/** Above it the Redis stalls time commands out; still far under the shortest lease. */
const COMMAND_TIMEOUT = 300;
/** Redis stalls never exceed 40 % of the shortest lease: they are not meant to break one. */
const stallOf = (fencing) => ({ min: 150, max: Math.floor(0.4 * Math.min(...(fencing ? [FENCING_TTL.min] : TTLS), FILE_STALE)) });
const CALL = { timeout: 10_000, interval: 100, minMs: 5, maxMs: 30, drainMs: 2000, perChannel: 2 };
/** Pause between two faults of one adapter, in ms. */
const GAP = { min: 800, max: 3000 };
const PROGRESS_MS = 5000;
/** Overlaps described one by one at the end; the rest are only counted (--unsafe sees hundreds). */
const OVERLAPS_SHOWN = 20;
/** Time the workers get to close and exit at the end before SIGKILL. */
const STOP_MS = 1500;

/** Absolute ms, comparable with the workers' clocks (the same on every process of one machine). */
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const print = (line) => process.stdout.write(`${line}\n`);

// Whatever ends the run (the end, an error, Ctrl-C, SIGTERM), no child process outlives it.
const children = new Set();
const cleanups = [];
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  for (const cleanup of cleanups.splice(0)) cleanup();
});
const bail = (code, message) => {
  process.stderr.write(`chaos: ${message}\n`);
  process.exit(code);
};
process.on('SIGINT', () => bail(130, 'interrupted'));
process.on('SIGTERM', () => bail(143, 'terminated'));
process.on('uncaughtException', (error) => bail(2, error?.message ?? String(error)));
process.on('unhandledRejection', (error) => bail(2, error?.message ?? String(error)));

const countBy = (items, key) => {
  const counts = new Map();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${k} ${n}`).join(', ');
};

const main = async () => {
  const flags = parseFlags(process.argv.slice(2));
  if (flags.help) {
    print(USAGE);
    return 0;
  }
  if (!existsSync(join(ROOT, 'dist', 'server', 'index.js'))) {
    throw new SetupError('the package is not built: run npm run build first (npm run chaos does it for you)');
  }
  const modeFlags = `${flags.unsafe ? ' --unsafe' : ''}${flags.fencing ? ' --fencing' : ''}${flags.unfenced ? ' --unfenced-ledger' : ''}`;
  const replay = `npm run chaos -- --seed ${flags.seed} --seconds ${flags.seconds} --adapter ${flags.adapter} --workers ${flags.workers}${modeFlags}`;
  const mode = flags.unsafe ? ', UNSAFE (no atomize)' : flags.fencing ? `, fencing${flags.unfenced ? ', UNFENCED LEDGER (admits every request)' : ''}` : '';
  print(`chaos: seed ${flags.seed}, ${flags.seconds} s, adapter ${flags.adapter}, ${flags.workers} workers per adapter${mode}`);
  print(`chaos: replay with: ${replay}`);

  const t0 = now(); // times in the output count from here
  const at = (ms) => `${((ms - t0) / 1000).toFixed(3)} s`;
  const rng = createRng(flags.seed);
  const sides = [];
  const sideOf = (channel) => sides.find((side) => side.channels.includes(channel));

  // An overlap is described after the final evaluation: how each request ended, until when it
  // counted, and the last fault before.
  const life = (e) => {
    const killedAt = ledger.killedAt(e.pid);
    const closing = ledger.closingOf(e.pid);
    const closedAt = ledger.closedAt(e);
    const notes = [
      `arrived ${at(e.start)}`,
      `${e.how} at ${at(e.end)}`,
      ...(killedAt ? [`SIGKILLed at ${at(killedAt)}`] : []),
      ...(closing && closing.at < e.end ? [`its worker closing at ${at(closing.at)}${closedAt === undefined ? ' without it in flight' : ''}`] : []),
      ...(ledger.endOf(e) === e.end ? [] : [`counted until ${at(ledger.endOf(e))}`]),
    ];
    return `pid ${e.pid} call ${e.id} (${notes.join(', ')})`;
  };
  const describe = (overlap, title = 'overlap') => {
    const side = sideOf(overlap.channel);
    const last = side?.faults.filter((fault) => fault.at <= overlap.entry.start).pop();
    print(
      `${title} on ${overlap.channel} at ${at(overlap.entry.start)}: ${life(overlap.entry)} arrived while ${overlap.others.map(life).join(', ')} was in flight; ` +
        `last fault before: ${last ? `${last.what} at ${at(last.at)}` : 'none'}`,
    );
  };
  // A stale write accepted: an admitted request whose lock was taken before that of one admitted earlier.
  const describeStale = ({ channel, entry, newer }) => {
    const faults = sideOf(channel)?.faults ?? [];
    const own = faults.filter((f) => f.pid === entry.pid && f.at >= entry.acquiredAt - STALE_TOLERANCE && f.at <= entry.start);
    const last = faults.filter((fault) => fault.at <= entry.start).pop();
    const lock = (e) => `token ${e.token}, lock taken at ${at(e.acquiredAt)}`;
    print(
      `stale write accepted on ${channel} at ${at(entry.start)}: ${life(entry)} [${lock(entry)}${entry.refusable ? ', the guard would have refused it' : ''}] ` +
        `was admitted after ${life(newer)} [${lock(newer)}], ${Math.round(newer.acquiredAt - entry.acquiredAt)} ms newer; ` +
        `${own.length ? `faults of its worker since its lock was taken: ${own.map((f) => `${f.what} at ${at(f.at)}`).join(', ')}; ` : ''}` +
        `last fault before: ${last ? `${last.what} at ${at(last.at)}` : 'none'}`,
    );
  };
  let fence;
  if (flags.fencing) {
    const entry = join(ROOT, 'dist', 'fence', 'index.js');
    if (!existsSync(entry)) throw new SetupError('the package is built without alova-atomize/fence: run npm run build');
    const { createFenceGuard } = await import(pathToFileURL(entry).href);
    fence = { guard: createFenceGuard(), enforce: !flags.unfenced, header: 'x-fencing-token', tolerance: STALE_TOLERANCE };
  }
  const ledger = await startLedger({ now, fence });
  cleanups.push(() => void ledger.close());

  let redis;
  if (flags.adapters.includes('redis')) {
    try {
      redis = await startRedis({ onExit: (error) => bail(2, error.message) });
    } catch (error) {
      throw new SetupError(error.message);
    }
    cleanups.push(redis.stop);
    if (!redis.debug) print('chaos: this redis-server refuses DEBUG: no debug-sleep faults (SIGSTOP stalls only)');
  }
  let directory;
  if (flags.adapters.includes('file')) {
    directory = mkdtempSync(join(tmpdir(), 'alova-chaos-'));
    cleanups.push(() => rmSync(directory, { recursive: true, force: true }));
  }

  for (const name of flags.adapters) {
    const channels = ['a', 'b', 'c'].map((c) => `${name}-${c}`);
    const params = rng.fork(`${name}/workers`);
    const configOf = () => {
      const ttl = flags.fencing ? params.int(FENCING_TTL.min, FENCING_TTL.max) : params.pick(TTLS);
      const adapterOptions =
        name === 'redis'
          ? { host: '127.0.0.1', port: redis.port, keyPrefix: 'chaos:', redlockTTL: ttl, commandTimeout: COMMAND_TIMEOUT }
          : { directory, lockerOptions: { stale: FILE_STALE } };
      const lease = name === 'redis' ? ttl : FILE_STALE;
      const { unsafe, fencing } = flags;
      return { adapter: name, adapterOptions, lease, url: ledger.url, channels, loops: params.int(3, 4), seed: params.int(0, 2 ** 31), unsafe, fencing, ...CALL };
    };
    const pool = new Pool({
      name,
      channels,
      size: flags.workers,
      configOf,
      children,
      markKilled: ledger.markKilled,
      markClosing: ledger.markClosing,
      onFatal: (error) => bail(2, error.message),
    });
    const kinds = { ...KINDS[name], ...(flags.fencing ? FENCING_KINDS[name] : {}) };
    if (!redis?.debug) delete kinds['debug-sleep'];
    const side = { name, channels, pool, kinds, schedule: rng.fork(`${name}/schedule`), targets: rng.fork(`${name}/targets`) };
    sides.push(Object.assign(side, { faults: [], skipped: 0, waits: createWaits(), recent: [] }));
  }

  const startLimit = setTimeout(() => bail(2, 'the workers did not start within 30 s'), 30_000);
  await Promise.all(sides.map((side) => side.pool.start()));
  clearTimeout(startLimit);

  // The run proper: --seconds from the moment every worker is ready.
  const begin = now();
  const end = begin + flags.seconds * 1000;
  print(`chaos: ${sides.length * flags.workers} workers ready at ${at(begin)}; faults until ${at(end)}`);
  setTimeout(() => bail(2, 'the run did not stop within 30 s after --seconds'), flags.seconds * 1000 + 30_000).unref();
  // The arrivals of the last seconds are kept, for the faults that count from a moment already past.
  const RECENT_MS = 10_000;
  ledger.onArrival((entry) => {
    const side = sideOf(entry.channel);
    if (!side) return;
    side.waits.arrival(entry);
    side.recent.push(entry);
    while (side.recent[0].start < entry.start - RECENT_MS) side.recent.shift();
  });
  const totals = (overlaps) => ({
    n: sides.reduce((sum, side) => sum + ledger.served(side.channels), 0),
    k: sides.reduce((sum, side) => sum + side.faults.length, 0),
    v: overlaps.length,
    t: sides.reduce((sum, side) => sum + side.pool.stats.timeouts, 0),
    r: sides.reduce((sum, side) => sum + side.pool.stats.refused, 0),
    s: ledger.stale().length,
  });
  // Provisional: a request still in flight counts until now, and a 'closing' may still come.
  const progress = setInterval(() => {
    const { n, k, v, t, r, s } = totals(ledger.evaluate());
    const each = sides.length > 1 ? ` (${sides.map((side) => `${side.name} ${ledger.served(side.channels)}`).join(', ')})` : '';
    const fenced = flags.fencing ? `, ${r} stale writes refused, ${s} accepted` : '';
    print(`[${String(Math.round((now() - begin) / 1000)).padStart(4)} s] ${n} acquisitions${each}, ${k} faults, ${v} overlaps, ${t} timeouts${fenced}`);
  }, PROGRESS_MS);

  const stall = stallOf(flags.fencing);
  const faultLoop = async (side) => {
    for (;;) {
      // Drawn every round whatever happens, so that a seed replays the same kinds at the same times.
      const gap = side.schedule.int(GAP.min, GAP.max);
      const kind = side.schedule.weighted(side.kinds);
      const stallMs = side.schedule.int(stall.min, stall.max);
      const leaseFactor = flags.fencing ? side.schedule.int(LEASE_FACTOR.min, LEASE_FACTOR.max) / 100 : undefined;
      if (now() + gap >= end) return;
      await sleep(gap);
      const ctx = { ledger, rng: side.targets, now, redis, leaseFactor };
      const fault = await inject(kind, side.pool, ctx, stallMs);
      if (!fault) side.skipped++;
      else {
        side.faults.push(fault);
        side.waits.fault(fault);
        // A stalled holder's fault started before it was known here: the arrivals since count too.
        if (fault.replay) for (const entry of side.recent) if (entry.start > fault.at) side.waits.arrival(entry);
        if (flags.verbose) print(`fault: ${side.name} ${fault.what} at ${at(fault.at)}`);
      }
    }
  };
  await Promise.all([...sides.map(faultLoop), sleep(Math.max(0, end - now()))]);

  // The end: stop the calls, then count.
  clearInterval(progress);
  const stoppedAt = now();
  const longest = new Map(sides.map((side) => [side, side.waits.finish(stoppedAt)]));
  await Promise.all(sides.map((side) => side.pool.stop(STOP_MS)));
  await ledger.drain(1000);
  await ledger.close();
  redis?.stop();
  // Every worker has exited and its messages are in: the final evaluation.
  const overlaps = ledger.evaluate();
  for (const overlap of overlaps.slice(0, OVERLAPS_SHOWN)) describe(overlap);
  if (overlaps.length > OVERLAPS_SHOWN) print(`(${overlaps.length - OVERLAPS_SHOWN} further overlaps are counted, not shown)`);
  // What the close rule decided, for review: arrivals that met a request only its worker's close ended.
  const excused = ledger.excused();
  for (const one of excused.slice(0, OVERLAPS_SHOWN)) describe(one, 'no overlap (ended by a close)');
  if (excused.length > OVERLAPS_SHOWN) print(`(${excused.length - OVERLAPS_SHOWN} further arrivals ended by a close, not shown)`);
  const overlapsOn = (channels) => overlaps.filter((o) => channels.includes(o.channel)).length;
  const stale = ledger.stale();
  for (const one of stale.slice(0, OVERLAPS_SHOWN)) describeStale(one);
  if (stale.length > OVERLAPS_SHOWN) print(`(${stale.length - OVERLAPS_SHOWN} further stale writes accepted, not shown)`);
  const staleOn = (channels) => stale.filter((o) => channels.includes(o.channel)).length;

  for (const side of sides) {
    const { stats } = side.pool;
    const wait = longest.get(side);
    const waitText =
      (wait.fault ? ` (${wait.fault.what} at ${at(wait.fault.at)}${wait.open ? ', no request followed before the end' : ''})` : '') +
      (wait.covered ? `; ${wait.covered} faults met channels an earlier fault still blocked` : '');
    const failed = [...stats.errors.values()].reduce((a, b) => a + b, 0);
    const closes = stats.closes;
    print(
      `${side.name}: ${ledger.served(side.channels)} acquisitions, ${side.faults.length} faults` +
        `${side.faults.length ? ` (${countBy(side.faults, (f) => f.kind)})` : ''}, ${overlapsOn(side.channels)} overlaps, ` +
        `${stats.timeouts} timeouts, longest wait after a fault ${Math.round(wait.ms)} ms${waitText}` +
        `${flags.fencing ? `, ${staleOn(side.channels)} stale writes accepted` : ''}`,
    );
    print(
      `${side.name}: ${stats.ok} calls ok, ${flags.fencing ? `${stats.refused} stale writes refused (409), ` : ''}${failed} failed${failed ? ` (${[...stats.errors].map(([k, n]) => `${k} ${n}`).join(', ')})` : ''}; ` +
        `${stats.spawned} workers spawned, ${stats.crashes} crashed${stats.lastCrash ? ` (last: ${stats.lastCrash})` : ''}, ${side.skipped} faults skipped (no target)`,
    );
    if (closes.length > 0) {
      const stuck = closes.reduce((sum, c) => sum + c.stuck, 0);
      const failedCloses = closes.filter((c) => c.closed !== 'ok');
      print(
        `${side.name}: close(): ${closes.length} done, longest ${Math.max(...closes.map((c) => c.closeMs))} ms, ` +
          `${stuck} calls still pending ${CALL.drainMs} ms after it${failedCloses.length ? `, ${failedCloses.length} rejected (${failedCloses[0].closed})` : ''}`,
      );
    }
    if (stats.warnings.size > 0) print(`${side.name}: worker warnings: ${[...stats.warnings].map(([k, n]) => `${k} ${n}`).join(', ')}`);
  }
  const { n, k, v, t, s } = totals(overlaps);
  const w = Math.round(Math.max(0, ...[...longest.values()].map((x) => x.ms)));
  print(`chaos: ${n} acquisitions, ${k} faults, ${v} overlaps, ${t} timeouts, longest wait after a fault ${w} ms${flags.fencing ? `, ${s} stale writes accepted` : ''}`);
  // With --fencing, an overlap of a stale request admitted before the newer holder's first one is
  // not what fencing prevents (chaos/README.md): only a stale write accepted fails the run.
  return (flags.fencing ? s : v) === 0 ? 0 : 1;
};

main().then(
  (code) => process.exit(code),
  (error) => bail(2, error instanceof SetupError ? error.message : `${error?.name ?? 'Error'}: ${error?.message ?? error}`),
);
