import { join } from 'node:path';
import { lockName } from '../cache/file-names.js';
import { isRealFolder } from '../fs/folder.js';
import { ignoreMissing } from '../fs/fs-errors.js';
import type { FsPromises } from '../fs/fs-promises.js';

/**
 * The mtime (ms) of `channel`'s lock in the lock folder, its last renewal; `undefined` when there is no
 * lock. Whatever is in the lock's place (a folder as proper-lockfile makes it, or a planted file or
 * link) is judged by its own mtime, as a takeover judges it; nothing is followed or written.
 */
export const lockMtime = async (files: FsPromises, lockFolder: string, channel: string): Promise<number | undefined> => {
  if (!(await isRealFolder(files, lockFolder))) return undefined;
  try {
    return (await files.lstat(join(lockFolder, lockName(channel)))).mtimeMs;
  } catch (error) {
    ignoreMissing(error);
    return undefined;
  }
};
