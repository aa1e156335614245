import { randomBytes } from 'node:crypto';
import { codeOf } from '../fs/fs-errors.js';
import type { FsPromises } from '../fs/fs-promises.js';
import { CREATE_FLAGS, NOT_A_FILE, READ_FLAGS } from '../fs/no-follow.js';

const DIGITS = /^\d+$/;

/** Bytes read of a token file: a token has at most 16 digits; a longer file is read whole. */
const READ_BYTES = 64;

const parse = (text: string | undefined): number =>
  text !== undefined && DIGITS.test(text) && Number.isSafeInteger(Number(text)) ? Number(text) : 0;

/** Missing, or not a regular file (a link, a folder): no token. */
const isNoToken = (error: unknown): boolean => codeOf(error) === 'ENOENT' || NOT_A_FILE.has(codeOf(error) as string);

/**
 * The last token in `path` (0 when there is none, or no safe integer), in two steps (open, read; the
 * descriptor is closed in the background) instead of readFile's four.
 */
const readLast = async (files: FsPromises, path: string): Promise<number> => {
  let fd: number;
  try {
    fd = await files.open(path, READ_FLAGS);
  } catch (error) {
    if (isNoToken(error)) return 0;
    throw error;
  }
  try {
    const buffer = Buffer.alloc(READ_BYTES);
    const length = await files.read(fd, buffer, 0, READ_BYTES, 0);
    if (length === READ_BYTES) return parse(await readFence(files, path));
    return parse(buffer.toString('utf8', 0, length).trim());
  } catch (error) {
    if (isNoToken(error)) return 0; // EISDIR: a folder opens, but does not read
    throw error;
  } finally {
    files.close(fd).catch(() => undefined);
  }
};

/** A new temporary file next to `path` holding `token`: its name and open descriptor. */
const writeTemporary = async (files: FsPromises, path: string, token: number, fileMode: number): Promise<{ temporary: string; fd: number }> => {
  const temporary = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  const fd = await files.open(temporary, CREATE_FLAGS, fileMode);
  try {
    const data = Buffer.from(String(token));
    if ((await files.write(fd, data)) !== data.length) throw Object.assign(new Error(`EIO: short write to ${temporary}`), { code: 'EIO' });
    return { temporary, fd };
  } catch (error) {
    files.close(fd).catch(() => undefined);
    await files.rm(temporary, { force: true }).catch(() => undefined);
    throw error;
  }
};

/** Closes and removes a temporary file that will not be renamed. Never rejects. */
const discard = async (files: FsPromises, { temporary, fd }: { temporary: string; fd: number }): Promise<void> => {
  files.close(fd).catch(() => undefined);
  await files.rm(temporary, { force: true }).catch(() => undefined);
};

/**
 * The last token this process gave, on any channel: the clock has millisecond steps, so a token file
 * removed (or replaced by a link) between two grants of one millisecond would give both the same token.
 */
let lastGiven = 0;

/**
 * The next fencing token of a channel, made under its lock: `max(last + 1, wall clock in µs, the last
 * token this process gave + 1)`, so it
 * is above every earlier token of the channel, also when the token file was removed (as long as the
 * clock does not go back). The last token is kept in `path`, replaced atomically (temporary file,
 * then rename). A file that holds no safe integer counts as none, and so does a link or a folder in its
 * place (never followed: the rename replaces a link). The last token is read from the file every time
 * (another process may have written one since). Meanwhile the clock's value is written to a temporary
 * file: it is the token unless the last one read is not below it (then a temporary file with `last + 1`
 * replaces it), so that the token file is usually replaced one step after the reading.
 */
export const nextToken = async (files: FsPromises, path: string, fileMode: number): Promise<number> => {
  const clock = Date.now() * 1000;
  const [last, written] = await Promise.allSettled([readLast(files, path), writeTemporary(files, path, clock, fileMode)]);
  if (written.status === 'rejected') throw written.reason; // nothing was left
  if (last.status === 'rejected') {
    await discard(files, written.value);
    throw last.reason;
  }
  const token = Math.max(last.value + 1, clock, lastGiven + 1);
  let file = written.value;
  if (token !== clock) {
    await discard(files, file);
    file = await writeTemporary(files, path, token, fileMode);
  }
  let closed: Promise<void> | undefined;
  try {
    // Windows refuses to rename a file that is open; elsewhere the descriptor is closed in the background.
    if (process.platform === 'win32') await (closed = files.close(file.fd));
    await files.rename(file.temporary, path);
    lastGiven = Math.max(lastGiven, token);
    return token;
  } catch (error) {
    await files.rm(file.temporary, { force: true }).catch(() => undefined);
    throw error;
  } finally {
    (closed ?? files.close(file.fd)).catch(() => undefined);
  }
};

/**
 * The text of the token file at `path`, trimmed; `undefined` when there is none (or a link or a folder
 * is in its place: never followed). Other fs errors reject.
 */
export const readFence = async (files: FsPromises, path: string): Promise<string | undefined> => {
  try {
    return (await files.readFile(path, { encoding: 'utf8', flag: READ_FLAGS })).trim();
  } catch (error) {
    if (codeOf(error) !== 'ENOENT' && !NOT_A_FILE.has(codeOf(error) as string)) throw error;
    return undefined;
  }
};
