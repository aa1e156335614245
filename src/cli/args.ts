import { parseArgs } from 'node:util';
import { AtomizeError } from '../shared/errors.js';

/** A command line the CLI cannot run: wrong flags, a missing channel, both or neither backend. */
export class UsageError extends AtomizeError {
  constructor(message: string, cause?: unknown) {
    super(message, 'ERR_ATOMIZE_USAGE', { cause });
  }
}

export const USAGE = `Usage: alova-atomize inspect (--redis URL | --dir DIR) [--prefix P] [--stale MS] [--json] CHANNEL...

Shows, for each lock channel, whether it is held, by whom, for how long yet, how many wait, and its
last fencing token. Reads only: writes no key and no file.

  --redis URL   a Redis server, redis://[[user]:password@]host[:port][/db] (rediss:// for TLS)
  --dir DIR     the directory of a FileStorageAdapter
  --prefix P    the Redis adapter's keyPrefix (default alova:)
  --stale MS    the file adapter's lockerOptions.stale, which tells a held lock from an abandoned one (default 5000)
  --json        print a JSON array instead of a table
  -h, --help    print this help
`;

/** What to inspect, and where. */
export type Backend = { readonly kind: 'redis'; readonly url: string; readonly prefix?: string } | { readonly kind: 'dir'; readonly dir: string; readonly stale?: number };

export type Command = { readonly kind: 'help' } | { readonly kind: 'inspect'; readonly backend: Backend; readonly json: boolean; readonly channels: string[] };

const OPTIONS = {
  redis: { type: 'string' },
  dir: { type: 'string' },
  prefix: { type: 'string' },
  stale: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const isRedisUrl = (text: string): boolean => {
  try {
    const url = new URL(text);
    return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '';
  } catch {
    return false;
  }
};

/** The command `argv` (without node and the script) asks for; a `UsageError` when it is not one. */
export const parseCommand = (argv: readonly string[]): Command => {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message, error);
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: 'help' };
  const [command, ...channels] = positionals;
  if (command === undefined) throw new UsageError('missing command: alova-atomize inspect (--redis URL | --dir DIR) CHANNEL...');
  if (command !== 'inspect') throw new UsageError(`unknown command ${JSON.stringify(command)}: the only command is inspect`);
  if ((values.redis === undefined) === (values.dir === undefined)) throw new UsageError('give exactly one of --redis URL and --dir DIR');
  if (channels.length === 0) throw new UsageError('missing channel: name at least one CHANNEL to inspect');
  const empty = channels.find((channel) => channel === '');
  if (empty !== undefined) throw new UsageError('a channel is a non-empty string: got ""');
  if (values.redis !== undefined) {
    if (values.stale !== undefined) throw new UsageError('--stale is for --dir only');
    if (!isRedisUrl(values.redis)) throw new UsageError('--redis expects a URL redis://[[user]:password@]host[:port][/db] (or rediss://)');
    return { kind: 'inspect', backend: { kind: 'redis', url: values.redis, prefix: values.prefix }, json: values.json === true, channels };
  }
  if (values.prefix !== undefined) throw new UsageError('--prefix is for --redis only');
  const stale = values.stale === undefined ? undefined : Number(values.stale);
  if (stale !== undefined && !(Number.isFinite(stale) && stale > 0)) throw new UsageError(`--stale expects a positive number of ms, got ${JSON.stringify(values.stale)}`);
  return { kind: 'inspect', backend: { kind: 'dir', dir: values.dir!, stale }, json: values.json === true, channels };
};
