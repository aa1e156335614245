import { randomBytes } from 'node:crypto';
import { codeOf } from '../fs/fs-errors.js';
import type { FsPromises } from '../fs/fs-promises.js';
import { CREATE_FLAGS, NOT_A_FILE, READ_FLAGS } from '../fs/no-follow.js';

const DIGITS = /^\d+$/;

/**
 * The next fencing token of a channel, made under its lock: `max(last + 1, wall clock in µs)`, so it
 * is above every earlier token of the channel, also when the token file was removed (as long as the
 * clock does not go back). The last token is kept in `path`, replaced atomically (temporary file,
 * then rename). A file that holds no safe integer counts as none, and so does a link or a folder in its
 * place (never followed: the rename replaces a link).
 */
export const nextToken = async (files: FsPromises, path: string, fileMode: number): Promise<number> => {
  let last = 0;
  const text = await readFence(files, path);
  if (text !== undefined && DIGITS.test(text) && Number.isSafeInteger(Number(text))) last = Number(text);
  const token = Math.max(last + 1, Date.now() * 1000);
  const temporary = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    await files.writeFile(temporary, String(token), { flag: CREATE_FLAGS, mode: fileMode });
    await files.rename(temporary, path);
  } catch (error) {
    await files.rm(temporary, { force: true }).catch(() => undefined);
    throw error;
  }
  return token;
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
