import { join } from 'node:path';
import { lockName } from '../cache/file-names.js';
import { isRealFolder } from '../fs/folder.js';
import { codeOf } from '../fs/fs-errors.js';
import type { FsPromises } from '../fs/fs-promises.js';
import { isTicketName, ownerExited } from '../line/ticket-name.js';

/**
 * How many live tickets wait in `channel`'s line, judged as the line judges them (a ticket is dead when
 * its process exited, or its mtime is older than `staleMs`) but without removing the dead ones.
 */
export const liveTickets = async (files: FsPromises, lineFolder: string, channel: string, staleMs: number): Promise<number> => {
  const folder = join(lineFolder, lockName(channel));
  let names: string[];
  try {
    if (!(await isRealFolder(files, lineFolder)) || !(await isRealFolder(files, folder))) return 0;
    names = (await files.readdir(folder)).filter((name) => isTicketName(name) && !ownerExited(name));
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return 0; // the line emptied and went meanwhile
    throw error;
  }
  const alive = await Promise.all(
    names.map((name) =>
      files.lstat(join(folder, name)).then(
        (stats) => Date.now() - stats.mtimeMs <= staleMs,
        (error: unknown) => (codeOf(error) === 'ENOENT' ? false : Promise.reject(error)),
      ),
    ),
  );
  return alive.filter(Boolean).length;
};
