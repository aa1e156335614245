// The ledger: a loopback HTTP server that plays the upstream of the chaos workers and logs, per
// channel, when each request was worked on. Two requests of one channel worked on at the same time are
// an overlap: the lock failed.
//
// `GET /work?channel=c&ms=12&pid=123&id=7` holds the response `ms` milliseconds. Each request is an
// interval [start, end) of the driver's clock (`now`, absolute: performance.timeOrigin + now()):
//   - start: its arrival;
//   - end, as the server observes it (`entry.end`, `entry.how`): the response finished ('served'); or
//     the client disconnected first while its process is alive ('aborted'); or, for a process the
//     driver SIGKILLed (`markKilled`), the server's own timer ran out ('orphaned'), as an upstream
//     keeps working after its client died;
//   - except when the worker announced, before calling `adapter.close()`, that it was closing at T
//     with this request in flight (`markClosing(pid, T, ids)`): then end = min(observed end,
//     max(start, T)). The model: an upstream stops working on a request when its client aborts, and
//     close() aborts the running requests before it releases their locks; the disconnect reaches the
//     server only a few ms later, after the next holder's request may have arrived.
// An overlap is a request whose interval intersects that of another request of its channel that
// started before it (counted once per later request). As a 'closing' message may arrive after a
// later request did, overlaps are evaluated after the fact: `evaluate()` is provisional while the run
// goes on (ends not known yet count as now) and final once every worker has exited.
//
// With `fence` (--fencing), a request also carries its fencing token (header `fence.header`) and the
// time its worker took the lock (`acquiredAt`, same clock). The ledger admits it through `fence.guard`
// (a createFenceGuard(), resource = the channel) before anything else: a refused request is answered
// 409 at once and never logged nor in flight. With `fence.enforce` false (--unfenced-ledger) every
// request is admitted, the guard's verdict only noted (`entry.refusable`). Either way, an admitted
// request whose `acquiredAt` is more than `fence.tolerance` ms earlier than that of a request admitted
// before it on its channel is a **stale write accepted** (`stale()`): its lock episode is older than one
// the upstream already acted on.
import { createServer } from 'node:http';

export const startLedger = async ({ now, fence }) => {
  const inflight = new Map(); // channel -> Set of entries the server is still working on
  const served = new Map(); // channel -> responses finished
  const killed = new Map(); // pid -> when the driver killed it
  const closings = new Map(); // pid -> { at, ids: Set of request ids in flight at `at` }
  const listeners = new Set();
  const timers = new Set();
  const ends = new Set(); // how to end each entry still in flight (used by close())
  // Arrivals that met another request in flight by the server's observed account: the only
  // possible overlaps, since the final end of a request is never later than the observed one.
  const candidates = [];
  const newest = new Map(); // channel -> the admitted entry with the latest acquiredAt (with `fence`)
  const stale = []; // { channel, entry, newer }: stale writes accepted (with `fence`)

  const setOf = (channel) => {
    if (!inflight.has(channel)) inflight.set(channel, new Set());
    return inflight.get(channel);
  };

  /** When the announced close of its worker ended `entry`, or undefined when it did not. */
  const closedAt = (entry) => {
    const closing = closings.get(entry.pid);
    return closing?.ids.has(entry.id) ? Math.max(entry.start, closing.at) : undefined;
  };
  /** The end of `entry`'s interval by the rules above; an entry still in flight counts until `at`. */
  const endOf = (entry, at = now()) => {
    const observed = entry.end ?? Math.max(at, entry.start);
    const closed = closedAt(entry);
    return closed === undefined ? observed : Math.min(observed, closed);
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const channel = url.searchParams.get('channel');
    const ms = Number(url.searchParams.get('ms'));
    const pid = Number(url.searchParams.get('pid'));
    const id = Number(url.searchParams.get('id'));
    if (url.pathname !== '/work' || !channel || !(ms >= 0) || !pid) {
      res.writeHead(400).end();
      return;
    }
    if (!fence) {
      work(res, { channel, pid, id, ms });
      return;
    }
    const token = req.headers[fence.header];
    const acquiredAt = Number(url.searchParams.get('acquiredAt'));
    if (typeof token !== 'string' || !(acquiredAt > 0)) {
      res.writeHead(428).end();
      return;
    }
    // The in-memory guard settles within this tick: no other request is admitted in between.
    fence.guard.admit(channel, token).then(
      (admitted) => {
        if (admitted || !fence.enforce) work(res, { channel, pid, id, ms, token, acquiredAt, refusable: !admitted });
        else res.writeHead(409, { 'content-type': 'application/json' }).end('{"ok":false,"refused":"stale fencing token"}');
      },
      () => res.writeHead(400).end(), // InvalidFencingTokenError
    );
  });

  /** An admitted request: logged and held `ms`, then answered. */
  const work = (res, { channel, pid, id, ms, ...fenced }) => {
    // `how` it ended: 'served', 'aborted' (the live client left) or 'orphaned' (killed client, timer ran out).
    const entry = { channel, pid, id, ms, ...fenced, start: now(), end: undefined, how: undefined };
    if (fence) {
      const last = newest.get(channel);
      if (last && entry.acquiredAt < last.acquiredAt - fence.tolerance) stale.push({ channel, entry, newer: last });
      if (!last || entry.acquiredAt > last.acquiredAt) newest.set(channel, entry);
    }
    const current = setOf(channel);
    if (current.size > 0) candidates.push({ channel, entry, others: [...current] });
    current.add(entry);
    for (const listener of listeners) listener(entry);

    const end = (how) => {
      if (entry.end !== undefined) return;
      entry.end = now();
      entry.how = how;
      current.delete(entry);
      ends.delete(end);
    };
    ends.add(end);
    const timer = setTimeout(() => {
      timers.delete(timer);
      end(res.destroyed ? 'orphaned' : 'served');
      if (res.destroyed) return; // a killed client's request: it ends now, but nobody was served
      served.set(channel, (served.get(channel) ?? 0) + 1);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    }, ms);
    timers.add(timer);
    res.on('close', () => {
      if (res.writableEnded || killed.has(pid)) return;
      end('aborted');
      clearTimeout(timer);
      timers.delete(timer);
    });
  };
  server.keepAliveTimeout = 10_000;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });

  /**
   * The overlaps by the current knowledge, in order of arrival: { channel, entry, others }, `others`
   * being the earlier requests whose interval `entry`'s meets. Final once every worker has exited.
   */
  const evaluate = (at = now()) => candidates.flatMap((candidate) => judge(candidate, at) ?? []);
  const judge = ({ channel, entry, others }, at) => {
    if (!(endOf(entry, at) > entry.start)) return undefined; // an empty interval meets nothing
    const met = others.filter((other) => endOf(other, at) > entry.start);
    return met.length > 0 ? { channel, entry, others: met } : undefined;
  };

  return {
    url: `http://127.0.0.1:${server.address().port}`,
    evaluate,
    /**
     * The arrivals that met a request in flight by the server's observed account but are no overlap,
     * since an announced close ended that request (or the arrival itself) before: { channel, entry, others }.
     */
    excused: (at = now()) => candidates.filter((candidate) => !judge(candidate, at)),
    endOf,
    closedAt,
    /** With `fence`: the stale writes accepted so far, in order of admission ({ channel, entry, newer }). */
    stale: () => [...stale],
    /** Call before sending SIGKILL, so that the dying client's requests keep counting. */
    markKilled: (pid) => killed.set(pid, now()),
    killedAt: (pid) => killed.get(pid),
    /** A worker is about to call adapter.close() at `at` (driver clock) with requests `ids` in flight. */
    markClosing: (pid, at, ids) => closings.set(pid, { at, ids: new Set(ids) }),
    closingOf: (pid) => closings.get(pid),
    /** The entries in flight on `channels` now, by the server's observed account. */
    inflight: (channels) => channels.flatMap((c) => [...setOf(c)]),
    /** Calls `listener(entry)` at every arrival; returns the function that stops it. */
    onArrival: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    served: (channels) => channels.reduce((sum, c) => sum + (served.get(c) ?? 0), 0),
    /** Resolves once nothing is in flight, or after `ms`. */
    drain: async (ms) => {
      const until = now() + ms;
      while (timers.size > 0 && now() < until) await new Promise((r) => setTimeout(r, 10));
    },
    /** Stops the server; what is still in flight ends now ('cut off'). */
    close: () =>
      new Promise((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        for (const end of [...ends]) end('cut off');
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
