// `npm run bench`: P processes x M requests on one channel against a local HTTP server, for both
// adapters, with notifications, fair handoff and local queueing on ("fast") and off ("poll", plain
// polling as alova's own implementation does), side by side in the same run.
// Flags: --adapters file,redis  --p 2,8  --p-redis 2,8,32  --m 25  --d 5  --warm 20  --runs 1  --out bench/results
//        --modes fast,poll  --release-on-response (the fast mode with atomize's `releaseOnResponse: true`)
//        --cpu-prof DIR (a V8 CPU profile of every worker process, in DIR)
// "cpu/call": CPU time (user + system) of all P processes while measured, per completed call.
// Each process first makes `warm` locked calls of the workload (not measured), so that what is
// measured runs on warm processes (connections open, code compiled), as in a long-running service.
import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startInflightServer } from '../test/helpers/inflight-server.mjs';
import { floorOf, metricsOf } from './lib/metrics.mjs';
import { commandCalls, startRedis } from './lib/redis.mjs';
import { barChart } from './lib/svg.mjs';

const { values: flags } = parseArgs({
  options: {
    adapters: { type: 'string', default: 'file,redis' },
    p: { type: 'string', default: '2,8' },
    'p-redis': { type: 'string', default: '2,8,32' },
    m: { type: 'string', default: '25' },
    d: { type: 'string', default: '5' },
    warm: { type: 'string', default: '20' },
    runs: { type: 'string', default: '1' },
    out: { type: 'string', default: 'bench/results' },
    'release-on-response': { type: 'boolean', default: false },
    modes: { type: 'string', default: 'fast,poll' },
    'cpu-prof': { type: 'string' },
  },
});
const list = (s) => s.split(',').filter(Boolean).map(Number);
const [M, D, RUNS, WARM] = [Number(flags.m), Number(flags.d), Number(flags.runs), Number(flags.warm)];
const MODES = {
  fast: { adapterOptions: {}, atomizeOptions: flags['release-on-response'] ? { releaseOnResponse: true } : {} },
  poll: { adapterOptions: { notify: false, fair: false }, atomizeOptions: { queue: false } },
};

const server = await startInflightServer();
const redis = flags.adapters.includes('redis') ? await startRedis() : undefined;
const lockDir = mkdtempSync(join(tmpdir(), 'atomize-bench-'));
const backends = {
  file: { directory: lockDir },
  redis: redis && { host: '127.0.0.1', port: redis.port, keyPrefix: 'bench:' },
};

/**
 * Starts P workers, waits until all are warm, starts them together, resolves their reports. `count`
 * (optional) is read when all are warm and again when all have reported, before any closes: what it
 * counts (Redis commands) is the warm run's only, without start-up and shut-down.
 */
const runWorkers = async (configs, task, count) => {
  const children = configs.map((c) => fork(new URL('./worker.mjs', import.meta.url), [JSON.stringify(c)], { stdio: 'inherit', execArgv: flags['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', flags['cpu-prof']] : [] }));
  await Promise.all(children.map((child) => new Promise((resolve) => child.once('message', resolve))));
  server.reset();
  const before = await count?.();
  const reports = children.map((child) => new Promise((resolve) => child.once('message', resolve)));
  for (const child of children) child.send({ task });
  const done = await Promise.all(reports);
  const after = await count?.();
  const exited = children.map((child) => new Promise((resolve) => child.once('exit', resolve)));
  for (const child of children) child.send({ task: 'close' });
  await Promise.all(exited);
  return count ? { reports: done, before, after } : done;
};

const config = (adapter, mode, channel) => ({
  adapter,
  adapterOptions: { ...backends[adapter], ...MODES[mode].adapterOptions },
  atomizeOptions: { timeout: 60_000, ...MODES[mode].atomizeOptions },
  url: server.url,
  m: M,
  d: D,
  warm: WARM,
  channel,
});

const results = [];
for (let run = 1; run <= RUNS; run++) {
  await runWorkers([{ ...config('file', 'fast', 'floor'), adapter: 'none', m: 100 }], 'plain');
  const floor = floorOf([...server.served()].sort((a, b) => a.start - b.start));
  const row = { run, floor: Math.round(floor * 1000) / 1000, ideal: 1000 / (D + floor), workloads: [] };
  for (const adapter of flags.adapters.split(',')) {
    const [overhead] = await runWorkers([config(adapter, 'fast', `overhead-${run}`)], 'overhead');
    row.workloads.push({ adapter, kind: 'uncontended overhead ms/call', value: Math.round(overhead.result * 1000) / 1000 });
    for (const p of list(adapter === 'redis' ? flags['p-redis'] : flags.p)) {
      for (const mode of flags.modes.split(',')) {
        const channel = `bench-${adapter}-${mode}-${p}-${run}`;
        const counted = redis && adapter === 'redis' ? () => commandCalls(redis.port) : undefined;
        const outcome = await runWorkers(Array.from({ length: p }, () => config(adapter, mode, channel)), 'locked', counted ?? (async () => ({})));
        const { reports, before } = outcome;
        const after = counted ? outcome.after : undefined;
        const byCommand = after && Object.fromEntries(Object.entries(after).map(([name, n]) => [name, n - (before[name] ?? 0)]).filter(([, n]) => n > 0));
        const commands = byCommand && Object.values(byCommand).reduce((sum, n) => sum + n, 0);
        const figures = metricsOf(server.served(), { d: D, floor });
        const errors = reports.flatMap((r) => r.errors);
        const cpuMsPerCall = Math.round((reports.reduce((sum, r) => sum + r.cpuMs, 0) / figures.calls) * 100) / 100;
        const workload = { adapter, p, mode, ...figures, cpuMsPerCall, maxInFlight: server.maxInFlight()[channel], errors: errors.length, firstError: errors[0] };
        if (commands !== undefined) {
          workload.redisCommandsPerCall = Math.round((commands / figures.calls) * 100) / 100;
          workload.redisCommands = byCommand;
        }
        row.workloads.push(workload);
        const w = workload;
        console.log(
          `run ${run} ${adapter.padEnd(5)} P=${String(p).padEnd(2)} ${mode.padEnd(4)} ${String(w.throughput).padStart(6)}/s (${(w.shareOfIdeal * 100).toFixed(0)}% of ideal) ` +
            `handoff p50/p95/max ${w.handoffGap.p50}/${w.handoffGap.p95}/${w.handoffGap.max} ms  wait p50/max ${w.lockWait.p50}/${w.lockWait.max} ms (max/mean ${w.lockWait.maxOverMean})  ` +
            `same ${(w.sameProcessShare * 100).toFixed(0)}%  cpu/call ${w.cpuMsPerCall} ms  ${w.redisCommandsPerCall !== undefined ? `cmds/call ${w.redisCommandsPerCall}  ` : ''}inflight ${w.maxInFlight}  errors ${w.errors}`,
        );
      }
    }
  }
  console.log(`run ${run} floor F ${row.floor} ms; ideal ${row.ideal.toFixed(1)}/s; overhead ${row.workloads.filter((w) => w.kind).map((w) => `${w.adapter} ${w.value} ms`).join(', ')}`);
  results.push(row);
}

await server.close();
redis?.stop();
rmSync(lockDir, { recursive: true, force: true });

// Medians over the runs, per workload: what docs/benchmarks.md reports.
const median = (xs) => {
  const sorted = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)] : undefined;
};
const pick = (w, path) => path.split('.').reduce((v, k) => v?.[k], w);
const METRICS = ['throughput', 'shareOfIdeal', 'handoffGap.p50', 'handoffGap.p95', 'handoffGap.max', 'lockWait.p50', 'lockWait.max', 'lockWait.maxOverMean', 'sameProcessShare', 'cpuMsPerCall', 'redisCommandsPerCall', 'maxInFlight', 'errors'];
const summary = {
  floor: median(results.map((r) => r.floor)),
  overhead: Object.fromEntries(flags.adapters.split(',').map((a) => [a, median(results.map((r) => r.workloads.find((w) => w.kind && w.adapter === a)?.value))])),
  workloads: results[0].workloads
    .filter((w) => !w.kind)
    .map(({ adapter, p, mode }) => {
      const same = results.map((r) => r.workloads.find((w) => w.adapter === adapter && w.p === p && w.mode === mode));
      return { adapter, p, mode, ...Object.fromEntries(METRICS.map((m) => [m, median(same.map((w) => pick(w, m)))])) };
    }),
};
console.log(`\nmedians of ${RUNS} run(s): floor F ${summary.floor} ms, uncontended overhead ${JSON.stringify(summary.overhead)} ms/call`);
// One process calling back to back, uncontended: what polling comes close to while one process keeps
// taking the lock again (its "same" share), and what a handoff to another process is measured against.
summary.oneProcess = Object.fromEntries(Object.entries(summary.overhead).map(([a, o]) => [a, Math.round(10_000 / (D + summary.floor + o)) / 10]));
console.log(`one process alone, back to back (1000 / (D + F + overhead)): ${Object.entries(summary.oneProcess).map(([a, v]) => `${a} ${v}/s`).join(', ')}`);
console.log('adapter  P  mode   req/s  ideal  gap p50  p95    max     wait p50  max     max/mean  same  cpu/call  cmds/call  inflight  errors');
for (const w of summary.workloads) {
  const cell = (v, n = 7) => String(v ?? '-').padEnd(n);
  console.log(
    `${cell(w.adapter, 8)} ${cell(w.p, 2)} ${cell(w.mode, 5)}  ${cell(w.throughput)}${cell(`${Math.round(w.shareOfIdeal * 100)}%`, 6)} ${cell(w['handoffGap.p50'], 8)} ${cell(w['handoffGap.p95'], 6)} ${cell(w['handoffGap.max'])} ${cell(w['lockWait.p50'], 9)} ${cell(w['lockWait.max'])} ${cell(w['lockWait.maxOverMean'], 9)} ${cell(`${Math.round(w.sameProcessShare * 100)}%`, 5)} ${cell(w.cpuMsPerCall, 9)} ${cell(w.redisCommandsPerCall, 10)} ${cell(w.maxInFlight, 9)} ${w.errors}`,
  );
}

const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version, date: new Date().toISOString() };
mkdirSync(flags.out, { recursive: true });
writeFileSync(join(flags.out, 'latest.json'), `${JSON.stringify({ machine, m: M, d: D, warm: WARM, releaseOnResponse: flags['release-on-response'], runs: RUNS, summary, results }, null, 2)}\n`);
const fast = summary.workloads.filter((w) => w.mode === 'fast');
const value = (metric) => (g, mode) => summary.workloads.find((w) => w.adapter === g.adapter && w.p === g.p && w.mode === mode)?.[metric];
const groups = fast.map((w) => ({ ...w, label: `${w.adapter} P=${w.p}` }));
writeFileSync(
  join(flags.out, 'latest.svg'),
  barChart({ title: `Handoff gap p50 to another process, median of ${RUNS} run(s) (D=${D} ms, floor ${summary.floor} ms)`, unit: 'ms', groups, modes: Object.keys(MODES), value: value('handoffGap.p50') }),
);
writeFileSync(
  join(flags.out, 'latest-throughput.svg'),
  barChart({ title: `Throughput, median of ${RUNS} run(s) (ideal ${Math.round(1000 / (D + summary.floor))}/s)`, unit: 'requests/s', groups, modes: Object.keys(MODES), value: value('throughput') }),
);
console.log(`results: ${join(flags.out, 'latest.json')}, latest.svg, latest-throughput.svg`);
