// The demo's command line: flags, their checks and the help text.
import { parseArgs } from 'node:util';

/** A failure the demo explains in one line on stderr (exit code 1, no stack trace). */
export class DemoError extends Error {}

/** A mistake in the command line: also points to --help. */
export class UsageError extends DemoError {}

export const USAGE = `Usage: npm run demo -- [options]      (or: node demo/run.mjs [options], after npm run build)

Starts a small shop on a free loopback port whose endpoints read, wait, then write (not atomic), and
lets several processes call it through alova: first without a lock, then with atomize, then with an
array channel shared by two endpoints; then read and write back (GET, then PUT) with each request
atomized alone, then under one withLock. Shows what each run did to the shop's numbers. Last, one
customer freezes past its lock's lease before sending, and the shop refuses its late write by its
fencing token (HTTP 409), after another customer took the lock over.

Options:
  --workers N      customer processes (default 8)
  --requests N     requests per process and run (default 25; GET then PUT: half as many sales)
  --delay MS       the shop's pause between read and write, in ms (default 5)
  --redis URL      lock with Redis (alova-atomize/storage-redis) instead of files,
                   e.g. --redis redis://127.0.0.1:6379 (the server must answer PING within 2 s)
  --json           print only one JSON line with the results (for scripts and tests)
  -h, --help       show this help

Exit code: 0 when every locked run left exact numbers and the shop refused the late write, 1 otherwise
or on a bad option.`;

const OPTIONS = {
  workers: { type: 'string' },
  requests: { type: 'string' },
  delay: { type: 'string' },
  redis: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

const integer = (flag, text, fallback, min, max) => {
  if (text === undefined) return fallback;
  const value = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!(value >= min && value <= max)) throw new UsageError(`--${flag} expects a whole number from ${min} to ${max}, got "${text}"`);
  return value;
};

/** The Redis URL, checked; the password is never shown in messages. */
const redisUrlOf = (text) => {
  let url;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || !/^rediss?:$/.test(url.protocol) || !url.hostname) {
    throw new UsageError(`--redis expects a URL like redis://127.0.0.1:6379, got "${text}"`);
  }
  const db = url.pathname.replace(/^\//, '');
  if (db && !/^\d+$/.test(db)) throw new UsageError(`--redis: the database number in the URL must be a whole number, got "${db}"`);
  return url;
};

/** A URL for messages: the password replaced by ***. */
export const shown = (url) => {
  const copy = new URL(url.href);
  if (copy.password) copy.password = '***';
  return copy.href.replace(/\/$/, '');
};

/** ioredis connection options for the adapter, from a redis:// or rediss:// URL. */
export const redisOptionsOf = (url) => {
  const options = { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(url.port || 6379) };
  if (url.username) options.username = decodeURIComponent(url.username);
  if (url.password) options.password = decodeURIComponent(url.password);
  const db = url.pathname.replace(/^\//, '');
  if (db) options.db = Number(db);
  if (url.protocol === 'rediss:') options.tls = {};
  return options;
};

/** Parses argv into settings; throws UsageError with a one-line message. */
export const parseFlags = (argv) => {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (error) {
    // node's messages go on with advice about '--' that does not apply here: keep the first sentence.
    throw new UsageError(String(error.message).split(/\.\s/)[0].replace(/\.$/, ''));
  }
  return {
    help: values.help === true,
    json: values.json === true,
    workers: integer('workers', values.workers, 8, 1, 256),
    requests: integer('requests', values.requests, 25, 1, 100_000),
    delay: integer('delay', values.delay, 5, 0, 10_000),
    redis: values.redis === undefined ? undefined : redisUrlOf(values.redis),
  };
};
