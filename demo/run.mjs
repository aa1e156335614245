// `npm run demo`: the problem atomize solves, and its cure, in numbers. No server to install.
//
// A small shop (demo/shop.mjs) runs on a free loopback port; its endpoints read a number, wait a few ms,
// then write it back. Several customer processes (demo/worker.mjs) call it through alova, three times:
//   1. /buy without a lock: overlapping calls overwrite each other, and sales are lost;
//   2. /buy wrapped in atomize (channel 'stock'): the stock ends exactly where it should;
//   3. /order on the channels ['orders', 'stock'] and /restock on 'stock', mixed: exact as well.
// Locks are files in a temporary directory, or a Redis with --redis redis://127.0.0.1:6379. See --help.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { DemoError, parseFlags, UsageError, USAGE } from './cli.mjs';
import { fileBackend, redisBackend } from './backend.mjs';
import { createView, millis, percentiles, seconds, table } from './report.mjs';
import { startShop } from './shop.mjs';

const WORKER = fileURLToPath(new URL('./worker.mjs', import.meta.url));
/** How long an atomized call may wait for its lock: ample, so that only a real fault fails a call. */
const LOCK_TIMEOUT = 30_000;

const PHASES = [
  { id: 'unprotected', label: '/buy, no lock', row: 'no lock', locked: false },
  { id: 'atomize', label: "/buy, atomize 'stock'", row: 'atomize', locked: true },
  { id: 'mixed', label: "/order ['orders','stock'], /restock 'stock'", row: 'array channel', locked: true },
];

/** The customers import the built package by its name: say so plainly when it is not built. */
const checkBuilt = () => {
  try {
    createRequire(import.meta.url).resolve('alova-atomize/server');
  } catch {
    throw new DemoError('the package is not built yet: run npm run build first (npm run demo does it for you)');
  }
};

/** One customer process and the replies it owes us. */
class Customer {
  done = 0;
  #waiting = new Map();
  #failure;
  #exited = false;

  constructor(index, onProgress) {
    this.index = index;
    this.child = fork(WORKER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (message) => {
      if (message.type === 'progress') {
        this.done = message.done;
        return onProgress();
      }
      if (message.type === 'failed') return this.#fail(new DemoError(`customer process ${index + 1}: ${message.message}`));
      const waiter = this.#waiting.get(message.type);
      this.#waiting.delete(message.type);
      waiter?.resolve(message);
    });
    this.child.on('error', (error) => this.#fail(new DemoError(`customer process ${index + 1}: ${error.message}`)));
    this.child.on('exit', (code, signal) => {
      this.#exited = true;
      this.#fail(new DemoError(`customer process ${index + 1} ended early (${signal ?? `exit code ${code}`})`));
    });
  }

  /** Sends `message` and resolves the child's reply of type `reply`. */
  ask(message, reply) {
    if (this.#failure) return Promise.reject(this.#failure);
    const answer = new Promise((resolve, reject) => this.#waiting.set(reply, { resolve, reject }));
    this.child.send(message);
    return answer;
  }

  /** Lets the process close its adapter and end; kills it after 2 s. */
  async stop() {
    if (this.#exited) return;
    const exited = once(this.child, 'exit');
    if (this.child.connected) this.child.send({ type: 'exit' }, () => undefined);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
  }

  kill() {
    if (!this.#exited) this.child.kill('SIGKILL');
  }

  #fail(error) {
    this.#failure ??= error;
    for (const { reject } of this.#waiting.values()) reject(error);
    this.#waiting.clear();
  }
}

/** Compares the shop's numbers after a run with what the successful calls should have left. */
const judge = (phase, start, results, { stock, orders }) => {
  const sum = (kind) => results.reduce((total, result) => total + result.counts[kind], 0);
  if (phase.id !== 'mixed') {
    const sold = sum('buy');
    const expected = start - sold;
    const wrong = Math.abs(stock - expected);
    const text = wrong === 0 ? `stock ${start} → ${stock}: exact` : `stock ends at ${stock}, not ${expected}: ${wrong} updates lost`;
    return { wrong, exact: wrong === 0, text, stock: { start, expected, actual: stock } };
  }
  const ordered = sum('order');
  const restocked = sum('restock');
  const expected = start - ordered + restocked;
  const distinct = new Set(orders).size;
  const off = Math.abs(stock - expected);
  const twice = orders.length - distinct;
  const wrong = off + twice;
  const text =
    wrong === 0
      ? `stock ${start} → ${stock}, orders 1–${ordered}: exact`
      : `stock off by ${off}, ${twice} order numbers given twice`;
  return { wrong, exact: wrong === 0, text, stock: { start, expected, actual: stock }, orders: { count: orders.length, distinct } };
};

/** One run of every customer against a freshly stocked shop. */
const runPhase = async (phase, n, context) => {
  const { flags, customers, shop, view, width } = context;
  const total = flags.workers * flags.requests;
  const line = view.phase(`[${n}/${PHASES.length}] ${phase.label.padEnd(width)}`, total);
  context.onProgress = () => line.update(customers.reduce((sum, customer) => sum + customer.done, 0));
  shop.reset(total);
  for (const customer of customers) customer.done = 0;
  const started = performance.now();
  try {
    const task = (customer) => ({ type: 'run', phase: phase.id, requests: flags.requests, worker: customer.index, timeout: LOCK_TIMEOUT });
    const results = await Promise.all(customers.map((customer) => customer.ask(task(customer), 'result')));
    const ms = performance.now() - started;
    const verdict = judge(phase, total, results, shop.snapshot());
    const failed = results.reduce((sum, result) => sum + result.failed, 0);
    const firstFailure = results.find((result) => result.firstFailure)?.firstFailure;
    const lockWait = (phase.locked && percentiles(results.flatMap((result) => result.waits))) || null;
    const painted = verdict.exact ? view.green(verdict.text) : view.red(verdict.text);
    line.finish(`${seconds(ms).padStart(6)}  ${painted}${failed ? `  (${failed} calls failed)` : ''}`);
    const { text: _text, ...state } = verdict;
    return { run: phase.id, title: phase.row, locked: phase.locked, requests: total, processes: customers.length, failed, firstFailure, ms, lockWait, ...state };
  } finally {
    line.stop();
  }
};

const summaryOf = (runs, backend) => {
  const [open, ...locked] = runs;
  const tail = locked.every((run) => run.wrong === 0) ? 'none' : 'some, which is a bug: please report it';
  if (open.wrong === 0) return `This time no update was lost even without a lock: try more --workers or a longer --delay.`;
  return `Without a lock, ${open.wrong} of ${open.requests} updates were lost; with atomize (${backend.name} locks), ${tail}.`;
};

const main = async (cleanups) => {
  const flags = parseFlags(process.argv.slice(2));
  if (flags.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  checkBuilt();
  const view = createView(process.stdout, { quiet: flags.json });
  const backend = flags.redis ? await redisBackend(flags.redis) : fileBackend();
  const customers = [];
  cleanups.push(backend.dispose);
  process.once('SIGINT', () => {
    for (const customer of customers) customer.kill();
    backend.dispose();
    process.stderr.write('\ndemo: interrupted\n');
    process.exit(130);
  });
  const shop = await startShop({ delay: flags.delay });
  cleanups.push(() => shop.close());

  const context = { flags, shop, view, customers, width: Math.max(...PHASES.map((phase) => phase.label.length)), onProgress: () => undefined };
  for (let i = 0; i < flags.workers; i++) customers.push(new Customer(i, () => context.onProgress()));
  cleanups.push(() => Promise.all(customers.map((customer) => customer.stop())));

  view.write(`alova-atomize demo: ${flags.workers} processes × ${flags.requests} requests against a shop at ${shop.url}`);
  view.write(view.dim(`The shop reads its stock, waits ${flags.delay} ms, then writes it back: not atomic. Locks: ${backend.where}.`));
  view.write('');
  await Promise.all(customers.map((customer) => customer.ask({ type: 'setup', shopUrl: shop.url, backend: backend.worker }, 'ready')));

  const runs = [];
  for (const [i, phase] of PHASES.entries()) runs.push(await runPhase(phase, i + 1, context));

  const failed = runs.filter((run) => run.failed > 0);
  const ok = failed.length === 0 && runs.every((run) => !run.locked || run.wrong === 0);
  if (flags.json) {
    const report = { ok, backend: backend.name, workers: flags.workers, requests: flags.requests, delay: flags.delay, runs };
    const rounded = (key, value) => (key === 'ms' ? Math.round(value) : key === 'p50' || key === 'max' ? Math.round(value * 10) / 10 : value);
    process.stdout.write(`${JSON.stringify(report, rounded)}\n`);
  } else {
    const cell = (run) => [run.title, run.requests, run.processes, run.wrong, seconds(run.ms), millis(run.lockWait?.p50), millis(run.lockWait?.max)];
    view.write('');
    for (const text of table(runs.map(cell))) view.write(text);
    view.write('');
    view.write(summaryOf(runs, backend));
  }
  for (const run of failed) process.stderr.write(`demo: ${run.failed} requests of the "${run.title}" run failed, the first with ${run.firstFailure}\n`);
  for (const run of runs.filter((r) => r.locked && r.wrong > 0)) {
    process.stderr.write(`demo: the "${run.title}" run ended ${run.wrong} off although atomized: this is a bug, please report it\n`);
  }
  return ok ? 0 : 1;
};

const cleanups = [];
const cleanUp = async () => {
  for (const cleanup of cleanups.reverse()) await Promise.resolve().then(cleanup).catch(() => undefined);
};

main(cleanups).then(
  async (code) => {
    await cleanUp();
    process.exitCode = code;
  },
  async (error) => {
    await cleanUp();
    const hint = error instanceof UsageError ? ' (see --help)' : '';
    process.stderr.write(`demo: ${error instanceof DemoError ? error.message : (error?.stack ?? error)}${hint}\n`);
    process.exitCode = 1;
  },
);
