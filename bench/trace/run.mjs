// Where a handoff's time goes: two (or more) processes take turns on one channel; for each handoff (the server
// sees process B start right after process A ended) prints the median of each step.
// Usage: npm run build && node bench/trace/run.mjs [redis|file] [requests per process] [processes, default 2]
// Redis: the server at REDIS_URL or 127.0.0.1:6379 (keys under a fresh prefix).
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startInflightServer } from '../../test/helpers/inflight-server.mjs';

const adapter = process.argv[2] ?? 'redis';
const m = Number(process.argv[3] ?? 40);
const server = await startInflightServer();
const directory = mkdtempSync(join(tmpdir(), 'atomize-trace-'));
const redis = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const adapterOptions =
  adapter === 'redis' ? { host: redis.hostname, port: Number(redis.port || 6379), keyPrefix: `trace-${Date.now()}:` } : { directory };
const config = JSON.stringify({ adapter, adapterOptions, url: server.url, m, d: 5 });
const children = Array.from({ length: Number(process.argv[4] ?? 2) }, () => fork(new URL('./worker.mjs', import.meta.url), [config]));
await Promise.all(children.map((child) => new Promise((resolve) => child.once('message', resolve))));
const reports = children.map((child) => new Promise((resolve) => child.once('message', (marks) => resolve([String(child.pid), marks]))));
for (const child of children) child.send('go');
const marksOf = Object.fromEntries(await Promise.all(reports));

const steps = {};
const add = (step, ms) => Number.isFinite(ms) && (steps[step] ??= []).push(ms);
const log = [...server.served()].sort((x, y) => x.start - y.start);
for (let i = 1; i < log.length; i++) {
  const [a, b] = [log[i - 1], log[i]];
  if (a.pid === b.pid) continue;
  const first = (pid, what) => marksOf[pid].find(([name, at]) => name === what && at >= a.end)?.[1];
  const t = {
    response: first(a.pid, 'response'),
    release: first(a.pid, 'release'),
    released: first(a.pid, 'released'),
    event: first(b.pid, 'event'),
    got: first(b.pid, 'got'),
    beforeRequest: first(b.pid, 'beforeRequest'),
  };
  add('handoff gap (server: A end -> B start)', b.start - a.end);
  add('A: server end -> response hook', t.response - a.end);
  add('A: response hook -> release called', t.release - t.response);
  add('A: release round trip', t.released - t.release);
  add('B: release called -> B hears it', t.event - t.release);
  add('B: heard -> has the lock', t.got - t.event);
  add('B: has the lock -> beforeRequest', t.beforeRequest - t.got);
  add('B: beforeRequest -> server start', b.start - t.beforeRequest);
}
const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
console.log(`${adapter}: ${m} requests x ${children.length} processes, medians over ${steps['handoff gap (server: A end -> B start)']?.length ?? 0} handoffs`);
for (const [step, values] of Object.entries(steps)) console.log(`  ${step.padEnd(42)} ${median(values).toFixed(3)} ms`);
await server.close();
rmSync(directory, { recursive: true, force: true });
