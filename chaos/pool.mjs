// The worker processes of one adapter: spawned, configured, watched, and respawned when the driver
// kills or closes one, so that the pool stays full. Counts the outcomes of their calls.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const WORKER = fileURLToPath(new URL('./worker.mjs', import.meta.url));
/** Unexpected worker exits tolerated before the run gives up (a broken build crashes them all). */
const MAX_CRASHES = 10;

export class Pool {
  /** Every worker process alive, by pid. */
  workers = new Map();
  stats = { ok: 0, refused: 0, errors: new Map(), timeouts: 0, spawned: 0, crashes: 0, closes: [], warnings: new Map() };
  #stopping = false;

  /**
   * @param {object} o
   * @param {string} o.name the adapter, 'redis' or 'file'
   * @param {string[]} o.channels the lock channels of this pool
   * @param {number} o.size how many workers to keep running
   * @param {() => object} o.configOf the config of the next worker (drawn from the seeded stream)
   * @param {Set} o.children every child process of the run, killed at exit
   * @param {(pid: number) => void} o.markKilled tells the ledger, before a SIGKILL
   * @param {(pid: number, at: number, ids: number[]) => void} o.markClosing tells the ledger that a
   *   worker is about to close its adapter at `at` with requests `ids` in flight
   * @param {(error: Error) => void} o.onFatal workers cannot run at all
   */
  constructor({ name, channels, size, configOf, children, markKilled, markClosing, onFatal }) {
    Object.assign(this, { name, channels, size, configOf, children, markKilled, markClosing, onFatal });
  }

  /** Starts the pool; resolves once every worker is ready. */
  async start() {
    await Promise.all(Array.from({ length: this.size }, () => this.#spawn().ready));
  }

  /** Workers that run their loops and are not being killed or closed. */
  running() {
    return [...this.workers.values()].filter((w) => w.state === 'running');
  }

  /** The distinct channels of `worker`'s calls in progress (waiting or in flight). */
  channelsOf(worker) {
    return [...new Set(worker.pending.values())];
  }

  kill(worker) {
    this.markKilled(worker.pid);
    worker.state = 'killed';
    worker.child.kill('SIGKILL');
  }

  /** Asks `worker` to close its adapter under its callers; it reports and exits, then is replaced. */
  close(worker, drainMs) {
    worker.state = 'closing';
    if (worker.child.connected) worker.child.send({ t: 'close', drainMs });
  }

  /** Running workers that are not stalled now (by a stall-holder fault). */
  stallable(now) {
    return this.running().filter((worker) => !(worker.stalledUntil > now));
  }

  /**
   * Tells `worker` to stall its next acquisition for `ms`, if it takes one before `until` (absolute
   * ms; see chaos/worker.mjs). Resolves its `stalling` message ({ id, channel, token, at, ms }) as it
   * starts, or undefined when it took none in time or exited.
   */
  stall(worker, ms, until, now) {
    if (!worker.child.connected) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const done = (message) => {
        clearTimeout(timer);
        worker.child.off('exit', gone);
        worker.onStalling = undefined;
        if (message) worker.stalledUntil = message.at + message.ms;
        resolve(message);
      };
      const gone = () => done(undefined);
      // A second more than the worker's own deadline, for its message to come in.
      const timer = setTimeout(gone, until - now() + 1000);
      worker.child.once('exit', gone);
      worker.onStalling = done;
      worker.child.send({ t: 'stall', ms, until });
    });
  }

  /**
   * Closes every worker (SIGKILL after `ms`), without replacing them. Resolves once each has exited
   * and its IPC channel is closed, so that every message it sent has been handled.
   */
  async stop(ms) {
    const drainMs = Math.floor(ms / 3);
    this.#stopping = true;
    await Promise.all(
      [...this.workers.values()].map(async (worker) => {
        if (worker.child.exitCode !== null || worker.child.signalCode !== null) return;
        const exited = once(worker.child, 'close');
        if (worker.state === 'running') this.close(worker, drainMs);
        else if (worker.state === 'starting') this.kill(worker); // it may not have its config yet
        const timer = setTimeout(() => worker.child.kill('SIGKILL'), ms);
        await exited;
        clearTimeout(timer);
      }),
    );
  }

  #spawn() {
    const child = spawn(process.execPath, [WORKER], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    const config = this.configOf();
    const worker = { child, pid: child.pid, config, state: 'starting', pending: new Map(), stderr: '' };
    this.children.add(child);
    this.workers.set(child.pid, worker);
    this.stats.spawned++;
    child.stdout.resume();
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => this.#stderr(worker, chunk));
    let readied;
    worker.ready = new Promise((resolve) => (readied = resolve));
    child.on('message', (message) => this.#message(worker, message, readied));
    child.on('error', () => undefined); // a failed send to a dying child: its exit follows
    child.once('exit', (code, signal) => this.#exit(worker, code, signal));
    return worker;
  }

  #message(worker, message, readied) {
    if (message.t === 'hello') worker.child.send(worker.config);
    else if (message.t === 'ready') {
      if (worker.state === 'starting') worker.state = 'running';
      readied();
    } else if (message.t === 'closing') this.markClosing(worker.pid, message.at, message.ids);
    else if (message.t === 'stalling') worker.onStalling?.(message);
    else if (message.t === 'start') worker.pending.set(message.id, message.channel);
    else if (message.t === 'end') {
      worker.pending.delete(message.id);
      if (this.#stopping) return; // shutdown closes the adapters: those endings are not outcomes
      if (message.ok) this.stats.ok++;
      else if (message.refused) this.stats.refused++; // --fencing: the ledger answered 409
      else {
        const key = `${message.name}${message.code ? ` ${message.code}` : ''}`;
        this.stats.errors.set(key, (this.stats.errors.get(key) ?? 0) + 1);
        if (message.code === 'ERR_ATOMIZE_LOCK_TIMEOUT') this.stats.timeouts++;
      }
    } else if (message.t === 'closed' && !this.#stopping) this.stats.closes.push(message);
  }

  /** Keeps the tail of a worker's stderr and counts process warnings by name. */
  #stderr(worker, chunk) {
    worker.stderr = (worker.stderr + chunk).slice(-4000);
    for (const [, name] of chunk.matchAll(/\(node:\d+\) (\w+)/g)) this.stats.warnings.set(name, (this.stats.warnings.get(name) ?? 0) + 1);
  }

  #exit(worker, code, signal) {
    this.children.delete(worker.child);
    this.workers.delete(worker.pid);
    if (this.#stopping) return;
    if (worker.state !== 'killed' && worker.state !== 'closing') {
      this.stats.crashes++;
      const last = worker.stderr.trim().split('\n').filter(Boolean).pop() ?? '';
      const error = new Error(`a ${this.name} worker ended unexpectedly (${signal ?? `exit code ${code}`})${last ? `: ${last}` : ''}`);
      this.stats.lastCrash = error.message;
      if (this.stats.crashes > MAX_CRASHES || worker.state === 'starting') return this.onFatal(error);
    }
    this.#spawn();
  }
}
