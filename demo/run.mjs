// `npm run demo`: the problem atomize solves, and its cure, in numbers. No server to install.
//
// A small shop (demo/shop.mjs) runs on a free loopback port; its endpoints read a number, wait a few ms,
// then write it back. Several customer processes (demo/worker.mjs) call it through alova:
//   1. /buy without a lock: overlapping calls overwrite each other, and sales are lost;
//   2. /buy wrapped in atomize (channel 'stock'): the stock ends exactly where it should;
//   3. /order on the channels ['orders', 'stock'] and /restock on 'stock', mixed: exact as well;
//   4. GET /stock then PUT /stock (read, then write back), each request atomized alone: lost again;
//   5. the same pair under one withLock: exact;
//   6. a holder frozen past its lease sends late: the shop refuses its fencing token (demo/fencing.mjs).
// Locks are files in a temporary directory, or a Redis with --redis redis://127.0.0.1:6379. See --help.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { DemoError, parseFlags, UsageError, USAGE } from './cli.mjs';
import { fileBackend, redisBackend } from './backend.mjs';
import { runFencing } from './fencing.mjs';
import { createView, millis, percentiles, seconds, table } from './report.mjs';
import { startShop } from './shop.mjs';

const WORKER = fileURLToPath(new URL('./worker.mjs', import.meta.url));
/** How long an atomized call may wait for its lock: ample, so that only a real fault fails a call. */
const LOCK_TIMEOUT = 30_000;

/**
 * `locked`: the calls wait for a lock (and measure it); `exact`: the run must leave exact numbers;
 * `perSale`: requests per sale (GET then PUT: 2, so that a process sends about --requests requests).
 */
const PHASES = [
  { id: 'unprotected', label: '/buy, no lock', row: 'no lock', locked: false, exact: false },
  { id: 'atomize', label: "/buy, atomize 'stock'", row: 'atomize', locked: true, exact: true },
  { id: 'mixed', label: "/order ['orders','stock'], /restock 'stock'", row: 'array channel', locked: true, exact: true },
  { id: 'read-write', label: "GET then PUT /stock, each atomized 'stock'", row: 'GET+PUT, atomize each', locked: true, exact: false, perSale: 2 },
  { id: 'with-lock', label: "GET then PUT /stock, withLock 'stock'", row: 'GET+PUT, withLock', locked: true, exact: true, perSale: 2 },
];
const FENCING = { label: 'stalled holder, fencing token checked', row: 'stalled, fenced' };
const STEPS = PHASES.length + 1;

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
    const answer = this.expect(reply);
    if (!this.#failure) this.child.send(message);
    return answer;
  }

  /** Resolves the child's next message of type `reply`. */
  expect(reply) {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => this.#waiting.set(reply, { resolve, reject }));
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
  const perSale = phase.perSale ?? 1;
  const sales = Math.ceil(flags.requests / perSale);
  const total = flags.workers * sales;
  const line = view.phase(`[${n}/${STEPS}] ${phase.label.padEnd(width)}`, total);
  context.onProgress = () => line.update(customers.reduce((sum, customer) => sum + customer.done, 0));
  shop.reset(total);
  for (const customer of customers) customer.done = 0;
  const started = performance.now();
  try {
    const task = (customer) => ({ type: 'run', phase: phase.id, requests: sales, worker: customer.index, timeout: LOCK_TIMEOUT });
    const results = await Promise.all(customers.map((customer) => customer.ask(task(customer), 'result')));
    const ms = performance.now() - started;
    const verdict = judge(phase, total, results, shop.snapshot());
    const failed = results.reduce((sum, result) => sum + result.failed, 0);
    const firstFailure = results.find((result) => result.firstFailure)?.firstFailure;
    const lockWait = (phase.locked && percentiles(results.flatMap((result) => result.waits))) || null;
    const painted = verdict.exact ? view.green(verdict.text) : view.red(verdict.text);
    line.finish(`${seconds(ms).padStart(6)}  ${painted}${failed ? `  (${failed} calls failed)` : ''}`);
    const { text: _text, ...state } = verdict;
    const requests = total * perSale;
    return { run: phase.id, title: phase.row, locked: phase.locked, mustBeExact: phase.exact, requests, ...(phase.perSale && { sales: total }), processes: customers.length, failed, firstFailure, ms, lockWait, ...state };
  } finally {
    line.stop();
  }
};

const summaryOf = (runs, fencing, backend) => {
  const [open, locked, mixed, each, block] = runs;
  const tail = [locked, mixed].every((run) => run.wrong === 0) ? 'none' : 'some, which is a bug: please report it';
  const first =
    open.wrong === 0
      ? `This time no update was lost even without a lock: try more --workers or a longer --delay.`
      : `Without a lock, ${open.wrong} of ${open.requests} updates were lost; with atomize (${backend.name} locks), ${tail}.`;
  const one = block.wrong === 0 ? 'none' : `${block.wrong}, which is a bug: please report it`;
  const pair =
    each.wrong === 0
      ? `Read, then write back: this time no sale was lost even with each request atomized alone; under one withLock, ${one}.`
      : `Read, then write back: with each request atomized alone, ${each.wrong} of ${each.sales} sales were lost; under one withLock, ${one}.`;
  const fenced = fencing.refused && fencing.exact ? 'the shop refused it (409), the stock stayed exact' : 'the shop did NOT refuse it: a bug, please report it';
  return [first, pair, `A holder frozen past its lease wrote late with an old fencing token: ${fenced}.`];
};

/** The two customers of the fencing stage: a second one is started when there is only one. */
const fencingPair = async (context, shop, backend) => {
  const { customers } = context;
  if (customers.length < 2) {
    const extra = new Customer(customers.length, () => undefined);
    customers.push(extra);
    await extra.ask({ type: 'setup', shopUrl: shop.url, backend: backend.worker }, 'ready');
  }
  return customers.slice(0, 2);
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

  const width = Math.max(...[...PHASES, FENCING].map((phase) => phase.label.length));
  const context = { flags, shop, view, customers, width, onProgress: () => undefined };
  for (let i = 0; i < flags.workers; i++) customers.push(new Customer(i, () => context.onProgress()));
  cleanups.push(() => Promise.all(customers.map((customer) => customer.stop())));

  view.write(`alova-atomize demo: ${flags.workers} processes × ${flags.requests} requests against a shop at ${shop.url}`);
  view.write(view.dim(`The shop reads its stock, waits ${flags.delay} ms, then writes it back: not atomic. Locks: ${backend.where}.`));
  view.write('');
  await Promise.all(customers.map((customer) => customer.ask({ type: 'setup', shopUrl: shop.url, backend: backend.worker }, 'ready')));

  const runs = [];
  for (const [i, phase] of PHASES.entries()) runs.push(await runPhase(phase, i + 1, context));
  const [stalled, taker] = await fencingPair(context, shop, backend);
  const { story, ...fencing } = await runFencing({ stalled, taker, shop, view, backend: backend.name, label: `[${STEPS}/${STEPS}] ${FENCING.label.padEnd(width)}` });
  for (const text of story) view.write(view.dim(`      ${text}`));

  const failed = runs.filter((run) => run.failed > 0);
  const ok = failed.length === 0 && runs.every((run) => !run.mustBeExact || run.wrong === 0) && fencing.refused && fencing.exact;
  if (flags.json) {
    const report = { ok, backend: backend.name, workers: flags.workers, requests: flags.requests, delay: flags.delay, runs, fencing };
    const rounded = (key, value) => (['ms', 'frozen', 'waited'].includes(key) ? Math.round(value) : key === 'p50' || key === 'max' ? Math.round(value * 10) / 10 : value);
    process.stdout.write(`${JSON.stringify(report, rounded)}\n`);
  } else {
    const cell = (run) => [run.title, run.requests, run.processes, run.wrong, seconds(run.ms), millis(run.lockWait?.p50), millis(run.lockWait?.max)];
    view.write('');
    for (const text of table([...runs.map(cell), cell({ ...fencing, title: FENCING.row })])) view.write(text);
    view.write('');
    for (const text of summaryOf(runs, fencing, backend)) view.write(text);
  }
  for (const run of failed) process.stderr.write(`demo: ${run.failed} requests of the "${run.title}" run failed, the first with ${run.firstFailure}\n`);
  for (const run of runs.filter((r) => r.mustBeExact && r.wrong > 0)) {
    process.stderr.write(`demo: the "${run.title}" run ended ${run.wrong} off although locked: this is a bug, please report it\n`);
  }
  if (!fencing.refused || !fencing.exact) {
    const write = fencing.stalled.status === null ? 'never reached the shop' : `was answered ${fencing.stalled.status}, not 409`;
    process.stderr.write(`demo: in the fencing stage the stalled holder's write ${write}, and the stock ended ${fencing.wrong} off: please report it\n`);
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
