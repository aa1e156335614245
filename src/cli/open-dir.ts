import { stat } from 'node:fs/promises';
import { LockerConfigError } from '../shared/errors.js';
import type { Inspector } from './open-redis.js';

/**
 * A `FileStorageAdapter` on the existing directory `dir` (a missing one is an error: most likely a typo,
 * and inspecting must not make it), judging locks with `stale`.
 */
export const openDir = async (dir: string, stale: number | undefined): Promise<Inspector> => {
  const found = await stat(dir).catch((error: NodeJS.ErrnoException) => {
    throw new LockerConfigError(`cannot read the directory ${dir}: ${error.code === 'ENOENT' ? 'no such directory' : error.message}`, error);
  });
  if (!found.isDirectory()) throw new LockerConfigError(`${dir} is not a directory`);
  const { FileStorageAdapter } = await import('../storage-file/index.js');
  const adapter = new FileStorageAdapter({ directory: dir, notify: false, ...(stale === undefined ? {} : { lockerOptions: { stale } }) });
  return {
    inspect: (channel) => adapter.inspect(channel),
    close: () => adapter.close().catch(() => undefined),
  };
};
