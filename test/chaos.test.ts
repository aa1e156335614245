/**
 * `npm run chaos` end to end, short: the soak runs against the built package (global setup builds
 * dist/) in a child process of its own, and ends with its one-line verdict. Whether the lock keeps
 * overlaps at 0 under faults is the soak's own verdict, printed here, not asserted: this test checks the
 * harness, that its ledger can fail (--unsafe, --unfenced-ledger), and the ledger's accounting on a
 * clock of its own. With --fencing, no stale write accepted is asserted: the fencing tokens' promise.
 */
import { request, type ClientRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import { runNode, type NodeRun } from './helpers/run-node.js';

const FINAL = /^chaos: (\d+) acquisitions, (\d+) faults, (\d+) overlaps, (\d+) timeouts, longest wait after a fault (\d+) ms$/;
const FENCED = /^chaos: (\d+) acquisitions, (\d+) faults, (\d+) overlaps, (\d+) timeouts, longest wait after a fault (\d+) ms, (\d+) stale writes accepted$/;

const chaos = (args: string[], limit = 30_000): Promise<NodeRun> => runNode(['chaos/run.mjs', ...args], { limit });

/** The numbers of the last stdout line, which must be the final line. */
const verdictOf = (outcome: NodeRun) => {
  const lines = outcome.stdout.trimEnd().split('\n');
  const last = lines[lines.length - 1]!;
  expect(last).toMatch(FINAL);
  const [n, k, v, t, w] = FINAL.exec(last)!.slice(1).map(Number);
  return { last, n: n!, k: k!, v: v!, t: t!, w: w! };
};

describe('npm run chaos', () => {
  it('runs both adapters under faults and ends with its one-line verdict', async () => {
    const outcome = await chaos(['--seconds', '6', '--seed', '1', '--adapter', 'both']);
    expect(outcome.stderr).toBe('');
    const verdict = verdictOf(outcome);
    console.log(`chaos --seconds 6 --seed 1: ${verdict.last} (exit ${outcome.code})`);
    expect(outcome.code).toBe(verdict.v === 0 ? 0 : 1);
    expect(verdict.n).toBeGreaterThan(0);
    expect(verdict.k).toBeGreaterThan(0);
    expect(outcome.stdout).toMatch(/^chaos: seed 1, 6 s, adapter both/);
    expect(outcome.stdout).toMatch(/^redis: \d+ acquisitions/m);
    expect(outcome.stdout).toMatch(/^file: \d+ acquisitions/m);
  });

  it('--unsafe (no atomize): the ledger sees overlaps and the run exits 1', async () => {
    const outcome = await chaos(['--unsafe', '--adapter', 'file', '--seconds', '4', '--seed', '1']);
    expect(outcome.stderr).toBe('');
    const verdict = verdictOf(outcome);
    expect(verdict.v).toBeGreaterThan(0);
    expect(outcome.code).toBe(1);
  });

  // A holder stalled past its lease sends after the next holder was admitted: the ledger that admits
  // everything must count it (and, with correct tokens, the guard would have refused it).
  it('--fencing --unfenced-ledger: stalled holders make stale writes accepted, and the run exits 1', async () => {
    const outcome = await chaos(['--fencing', '--unfenced-ledger', '--adapter', 'file', '--seconds', '8', '--seed', '3'], 40_000);
    expect(outcome.stderr).toBe('');
    const last = outcome.stdout.trimEnd().split('\n').pop()!;
    expect(last).toMatch(FENCED);
    const stale = Number(FENCED.exec(last)![6]);
    console.log(`chaos --fencing --unfenced-ledger --seed 3: ${last} (exit ${outcome.code})`);
    expect(stale).toBeGreaterThan(0);
    expect(outcome.stdout).toMatch(/^stale write accepted on file-\w at [\d.]+ s: pid \d+ call \d+ .*the guard would have refused it/m);
    expect(outcome.code).toBe(1);
  });

  it('--fencing: both adapters under lease-breaking faults, no stale write accepted, exit 0', async () => {
    const outcome = await chaos(['--fencing', '--adapter', 'both', '--seconds', '8', '--seed', '1'], 40_000);
    expect(outcome.stderr).toBe('');
    const last = outcome.stdout.trimEnd().split('\n').pop()!;
    console.log(`chaos --fencing --seconds 8 --seed 1: ${last} (exit ${outcome.code})`);
    expect(last).toMatch(FENCED);
    const [n, k, , , , stale] = FENCED.exec(last)!.slice(1).map(Number);
    expect(stale).toBe(0);
    expect(outcome.code).toBe(0);
    expect(n).toBeGreaterThan(0);
    expect(k).toBeGreaterThan(0);
    expect(outcome.stdout).toMatch(/^chaos: seed 1, 8 s, adapter both, 4 workers per adapter, fencing$/m);
    expect(outcome.stdout).toMatch(/^redis: \d+ calls ok, \d+ stale writes refused \(409\)/m);
    expect(outcome.stdout).toMatch(/^file: \d+ calls ok, \d+ stale writes refused \(409\)/m);
  });

  it('a bad flag: one line on stderr, exit 2', async () => {
    const outcome = await chaos(['--adapter', 'memory']);
    expect(outcome.code).toBe(2);
    expect(outcome.stdout).toBe('');
    expect(outcome.stderr).toBe('chaos: --adapter expects redis, file or both, got "memory"\n');
    const alone = await chaos(['--unfenced-ledger']);
    expect([alone.code, alone.stderr]).toEqual([2, 'chaos: --unfenced-ledger needs --fencing\n']);
  });
});

interface LedgerEntry {
  channel: string;
  pid: number;
  id: number;
  start: number;
  end?: number;
  how?: string;
}
interface Ledger {
  url: string;
  evaluate(): Array<{ channel: string; entry: LedgerEntry; others: LedgerEntry[] }>;
  markClosing(pid: number, at: number, ids: number[]): void;
  markKilled(pid: number): void;
  inflight(channels: string[]): LedgerEntry[];
  close(): Promise<void>;
}

describe('the chaos ledger', () => {
  it('ends a request at its worker\'s announced close, at the disconnect otherwise, at its timer when killed', async () => {
    const ledgerUrl = new URL('../chaos/ledger.mjs', import.meta.url).href;
    const { startLedger } = (await import(ledgerUrl)) as { startLedger: (o: { now: () => number }) => Promise<Ledger> };
    let t = 0; // the ledger's clock, set by hand before each event
    const ledger = await startLedger({ now: () => t });
    const until = async (done: () => boolean) => {
      while (!done()) await new Promise((resolve) => setTimeout(resolve, 2));
    };
    const inflight = (channel: string) => ledger.inflight([channel]).length;
    const send = async (channel: string, pid: number, ms: number): Promise<ClientRequest> => {
      const before = inflight(channel);
      const req = request(`${ledger.url}/work?channel=${channel}&ms=${ms}&pid=${pid}&id=1`, { agent: false });
      req.on('error', () => undefined);
      req.on('response', (res) => res.resume());
      req.end();
      await until(() => inflight(channel) > before);
      return req;
    };
    const leave = async (channel: string, req: ClientRequest) => {
      const before = inflight(channel);
      req.destroy();
      await until(() => inflight(channel) < before);
    };
    // Each channel: pid A arrives at 100, pid B at 110, A's client disconnects at 115, B's at 120.
    const scene = async (channel: string, a: number, b: number, between: () => void) => {
      t = 100;
      const first = await send(channel, a, 60_000);
      between();
      t = 110;
      const second = await send(channel, b, 60_000);
      t = 115;
      await leave(channel, first);
      t = 120;
      await leave(channel, second);
    };
    try {
      // A announced closing at 105 with its request in flight: [100, 105) does not meet [110, 120).
      await scene('closed', 11, 12, () => ledger.markClosing(11, 105, [1]));
      // A live disconnect without an announced close ends at the disconnect: [100, 115) meets B.
      await scene('aborted', 21, 22, () => undefined);
      // A close announced before A's request arrived did not name it: it keeps its whole interval.
      await scene('unnamed', 31, 32, () => ledger.markClosing(31, 95, []));
      // A SIGKILLed client's request counts until the ledger's own timer (50 ms) ends, at 200.
      t = 100;
      const killed = await send('killed', 41, 50);
      ledger.markKilled(41);
      killed.destroy();
      t = 110;
      const after = await send('killed', 42, 60_000);
      t = 200;
      await until(() => inflight('killed') === 1);
      t = 210;
      await leave('killed', after);

      const overlaps = ledger.evaluate();
      expect(overlaps.map((o) => [o.channel, o.entry.pid, o.others.map((other) => other.pid)])).toEqual([
        ['aborted', 22, [21]],
        ['unnamed', 32, [31]],
        ['killed', 42, [41]],
      ]);
      expect(overlaps[2]!.others[0]).toMatchObject({ end: 200, how: 'orphaned' });
    } finally {
      await ledger.close();
    }
  });
});
