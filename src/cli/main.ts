import { parseCommand, USAGE, type Backend } from './args.js';
import { openDir } from './open-dir.js';
import { openRedis, type Inspector } from './open-redis.js';
import { formatTable } from './table.js';

/** Where the CLI writes. */
export interface Output {
  out(text: string): void;
  err(text: string): void;
}

const open = (backend: Backend): Promise<Inspector> =>
  backend.kind === 'redis' ? openRedis(backend.url, backend.prefix) : openDir(backend.dir, backend.stale);

/** One line: an error's message, its line breaks folded. */
const oneLine = (error: unknown): string => String((error as Error | null)?.message ?? error).replace(/\s*[\r\n]+\s*/g, ' ');

/**
 * Runs `alova-atomize` with `argv` (what follows the script): the exit code. Help: usage on stdout, 0.
 * inspect: a table (or with --json a JSON array) of every channel on stdout, 0. Anything wrong (the
 * command line, the backend, a channel): one line on stderr, 1, and nothing on stdout.
 */
export const main = async (argv: readonly string[], output: Output): Promise<number> => {
  let inspector: Inspector | undefined;
  try {
    const command = parseCommand(argv);
    if (command.kind === 'help') {
      output.out(USAGE);
      return 0;
    }
    inspector = await open(command.backend);
    const rows = [];
    for (const channel of command.channels) rows.push(await inspector.inspect(channel));
    output.out(command.json ? `${JSON.stringify(rows, null, 2)}\n` : formatTable(rows));
    return 0;
  } catch (error) {
    output.err(`alova-atomize: ${oneLine(error)}\n`);
    return 1;
  } finally {
    await inspector?.close();
  }
};
