// The chaos soak's command line: flags, their checks and the help text.
import { parseArgs } from 'node:util';

/** A bad flag or a failed setup: one line on stderr, exit code 2. */
export class SetupError extends Error {}

export const USAGE = `Usage: npm run chaos -- [options]      (or: node chaos/run.mjs [options], after a build)

A seeded fault soak. Worker processes call atomize on a few channels against a local ledger server
that records the requests in flight per channel, while the driver injects faults at random times:
SIGKILLed holders and waiters, adapters closed under their waiting callers, Redis stalled by DEBUG
SLEEP or SIGSTOP for less than the shortest lease. Any request that arrives on a channel that already
has one in flight is an overlap. Needs redis-server on PATH for the Redis adapter (it starts its own
on a free loopback port). See chaos/README.md.

Options:
  --seconds S        how long to run, in seconds (default 60)
  --seed X           seed of the fault schedule and the worker parameters (default: random, printed)
  --adapter A        redis, file or both (default both: side by side, separate workers and channels)
  --workers N        worker processes per adapter (default 4)
  --unsafe           for testing the harness: workers send their requests WITHOUT atomize, so the
                     ledger must see overlaps
  --fencing          workers send fencing tokens, the ledger refuses stale ones (409); adds faults
                     that break leases (a holder stalled past its lease, a Redis restart that loses
                     its keys) and shorter leases; counts stale writes accepted
  --unfenced-ledger  with --fencing, for testing the harness: the ledger admits every request, so
                     stale writes must show
  --verbose          also print every fault as it is injected
  -h, --help         show this help

Ends with: chaos: <N> acquisitions, <K> faults, <V> overlaps, <T> timeouts, longest wait after a fault <W> ms
  (with --fencing: followed by ", <S> stale writes accepted")
Exit code: 0 when no overlap was seen (with --fencing: no stale write accepted), 1 otherwise, 2 on a
bad option or a setup failure.`;

const OPTIONS = {
  seconds: { type: 'string' },
  seed: { type: 'string' },
  adapter: { type: 'string' },
  workers: { type: 'string' },
  unsafe: { type: 'boolean' },
  fencing: { type: 'boolean' },
  'unfenced-ledger': { type: 'boolean' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

const integer = (flag, text, fallback, min, max) => {
  if (text === undefined) return fallback;
  const value = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!(value >= min && value <= max)) throw new SetupError(`--${flag} expects a whole number from ${min} to ${max}, got "${text}"`);
  return value;
};

/** Parses argv into settings; throws SetupError with a one-line message. */
export const parseFlags = (argv) => {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (error) {
    // node's messages go on with advice about '--' that does not apply here: keep the first sentence.
    throw new SetupError(`${String(error.message).split(/\.\s/)[0].replace(/\.$/, '')} (see --help)`);
  }
  const adapter = values.adapter ?? 'both';
  if (!['redis', 'file', 'both'].includes(adapter)) throw new SetupError(`--adapter expects redis, file or both, got "${adapter}"`);
  if (values.seed !== undefined && !/^[\w.-]{1,64}$/.test(values.seed)) {
    throw new SetupError(`--seed expects up to 64 letters, digits, '.', '_' or '-', got "${values.seed}"`);
  }
  if (values['unfenced-ledger'] && !values.fencing) throw new SetupError('--unfenced-ledger needs --fencing');
  if (values.unsafe && values.fencing) throw new SetupError('--unsafe sends no fencing token: it cannot be combined with --fencing');
  return {
    help: values.help === true,
    unsafe: values.unsafe === true,
    fencing: values.fencing === true,
    unfenced: values['unfenced-ledger'] === true,
    verbose: values.verbose === true,
    seconds: integer('seconds', values.seconds, 60, 1, 86_400),
    workers: integer('workers', values.workers, 4, 1, 64),
    adapters: adapter === 'both' ? ['redis', 'file'] : [adapter],
    adapter,
    seed: values.seed ?? String(Math.floor(Math.random() * 2 ** 32)),
  };
};
