// The demo's last stage: a lock holder that stalls past its lease, and a shop that refuses its late
// write by its fencing token (alova-atomize/fence). Staged step by step, so that it happens every time:
//   1. customer A takes the lock on 'stock' (a short lease: 2 s for files, 1 s for Redis) and, in
//      atomize's `beforeSend`, between taking the lock and sending, blocks its event loop: its lease
//      runs out unrenewed;
//   2. customer B waits for the lock, takes it over once the lease ran out, and buys one (a newer token);
//   3. A wakes up (the demo creates a file it polls for) and its buy leaves with its old token in
//      `x-fencing-token`: the shop's guard has admitted a newer one, and answers 409.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seconds } from './report.mjs';

const START = 10;
/** The stage's short leases, ms: a file lock is abandoned 2 s after its last renewal (proper-lockfile's least). */
const LEASES = { file: 2000, redis: 1000 };
/** How long A may stay frozen and B may wait, at most: only a fault comes near it. */
const LIMIT = 20_000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The shop's record of A's request: it may be read a moment after A's call ended (or never arrive). */
const recordOf = async (shop, token) => {
  const deadline = performance.now() + 2000;
  for (;;) {
    const record = shop.snapshot().fenced.find((request) => request.token === String(token));
    if (record || performance.now() > deadline) return record;
    await sleep(10);
  }
};

/**
 * Runs the stage with `stalled` (A) and `taker` (B), two customer processes; resolves its numbers and
 * the lines that tell the story.
 */
export const runFencing = async ({ stalled, taker, shop, view, label, backend }) => {
  const lease = LEASES[backend];
  const line = view.phase(label, 2);
  shop.reset(START, { fenced: true });
  const folder = mkdtempSync(join(tmpdir(), 'alova-atomize-demo-wake-'));
  const removeFolder = () => rmSync(folder, { recursive: true, force: true });
  process.once('exit', removeFolder); // also when the demo is interrupted
  const started = performance.now();
  try {
    const late = stalled.expect('stalled');
    late.catch(() => undefined); // awaited below, unless the stage fails before
    const holding = await stalled.ask({ type: 'stall', lease, timeout: LIMIT, wakeFile: join(folder, 'wake'), limit: LIMIT }, 'holding');
    const took = await taker.ask({ type: 'take-over', lease, timeout: LIMIT }, 'took-over');
    line.update(1);
    writeFileSync(join(folder, 'wake'), '');
    const woke = await late;
    line.update(2);
    const record = await recordOf(shop, holding.token);
    const { stock } = shop.snapshot();
    const ms = performance.now() - started;

    const sold = [took, woke].filter((call) => call.ok).length;
    const expected = START - sold;
    const wrong = Math.abs(stock - expected);
    const refused = record?.status === 409;
    const exact = wrong === 0;
    const stage = {
      run: 'fencing',
      requests: 2,
      processes: 2,
      ms,
      lease,
      refused,
      exact,
      wrong,
      stock: { start: START, expected, actual: stock },
      stalled: { token: holding.token, frozen: woke.frozen, ok: woke.ok, error: woke.error, status: record?.status ?? null, releaseWarning: woke.releaseWarning },
      taker: { token: took.token, waited: took.waited, ok: took.ok, error: took.error },
      unchecked: record?.unchecked ?? null,
    };

    const verdict = refused
      ? `stale write refused (409), stock ${START} → ${stock}: ${exact ? 'exact' : `${wrong} off`}`
      : `stale write NOT refused, stock ${START} → ${stock}`;
    line.finish(`${seconds(ms).padStart(6)}  ${refused && exact ? view.green(verdict) : view.red(verdict)}`);
    return { ...stage, story: storyOf(stage) };
  } finally {
    line.stop();
    process.removeListener('exit', removeFolder);
    removeFolder();
  }
};

/** How A's own call ended: the shop's 409 came back first, or A noticed its lost lease first. */
const endOf = ({ ok, error, releaseWarning }) => {
  if (ok) return "A's call succeeded, which it must not.";
  const release = releaseWarning ? ' (its release found the lock taken over: a LockReleaseError warning)' : '';
  if (/HTTP 409/.test(error)) return `A's call failed with that 409${release}.`;
  return `A's call failed with ${error.split(':')[0]}: A saw its lease lost before the answer came${release}.`;
};

/** What happened, in a few plain lines. */
const storyOf = ({ lease, stalled, taker, stock, unchecked }) => [
  `Customer A took the lock (fencing token ${stalled.token}), then froze ${seconds(stalled.frozen)} before sending: its ${seconds(lease)} lease ran out.`,
  `Customer B took the lock over after ${seconds(taker.waited)} (token ${taker.token}) and bought one: stock ${stock.start} → ${stock.start - 1}.`,
  stalled.status === null ? 'A woke up, and its buy never reached the shop.' : `A woke up and sent its buy with the old token: the shop answered ${stalled.status}.`,
  endOf(stalled),
  unchecked
    ? `Without the fence check, the shop would have accepted A's buy: ${unchecked.status}, stock ${unchecked.stock.from} → ${unchecked.stock.to}.`
    : 'The shop did not refuse A\'s buy: its fence check did not run.',
];
