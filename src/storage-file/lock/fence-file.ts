import { randomBytes } from 'node:crypto';
import { codeOf } from '../fs/fs-errors.js';
import type { FsPromises } from '../fs/fs-promises.js';

const DIGITS = /^\d+$/;

/**
 * The next fencing token of a channel, made under its lock: `max(last + 1, wall clock in µs)`, so it
 * is above every earlier token of the channel, also when the token file was removed (as long as the
 * clock does not go back). The last token is kept in `path`, replaced atomically (temporary file,
 * then rename). A file that holds no safe integer counts as none.
 */
export const nextToken = async (files: FsPromises, path: string): Promise<number> => {
  let last = 0;
  try {
    const text = (await files.readFile(path, 'utf8')).trim();
    if (DIGITS.test(text) && Number.isSafeInteger(Number(text))) last = Number(text);
  } catch (error) {
    if (codeOf(error) !== 'ENOENT') throw error;
  }
  const token = Math.max(last + 1, Date.now() * 1000);
  const temporary = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  await files.writeFile(temporary, String(token), { mode: 0o600 });
  await files.rename(temporary, path);
  return token;
};
