import { join } from 'node:path';
import { LockerConfigError } from '../../shared/errors.js';
import { tokenOf, type LockInspection } from '../../shared/inspection.js';
import { fenceName } from '../cache/file-names.js';
import { isRealFolder } from '../fs/folder.js';
import { isConfigError } from '../fs/fs-errors.js';
import type { FsPromises } from '../fs/fs-promises.js';
import { readFence } from '../lock/fence-file.js';
import type { FileSettings } from '../options.js';
import { liveTickets } from './live-tickets.js';
import { lockMtime } from './lock-age.js';

/** proper-lockfile's floor of `stale`, which the locks and the lines' tickets follow. */
const MIN_STALE_MS = 2000;

/** The last fencing token of `channel`, read from the fence folder (none when there is no such folder or file). */
const lastToken = async (files: FsPromises, fenceFolder: string, channel: string): Promise<string | undefined> =>
  (await isRealFolder(files, fenceFolder)) ? readFence(files, join(fenceFolder, fenceName(channel))) : undefined;

/**
 * What `channel`'s lock looks like in the adapter's directory, judged with this adapter's `stale`: held
 * while its lock was renewed less than `stale` ago (an older one is free: the next attempt takes it
 * over), until then `expiresInMs`; the live tickets in its line; its last fencing token. Read-only: no
 * file or folder is made, removed or followed through a link (a link in place of one of the adapter's
 * folders is a `LockerConfigError`, as for a lock attempt). The files record no holder.
 */
export const inspectChannel = async (settings: FileSettings, files: FsPromises, channel: string): Promise<LockInspection> => {
  const staleMs = Math.max(settings.stale, MIN_STALE_MS);
  let found: [number | undefined, number, string | undefined];
  try {
    found = await Promise.all([
      lockMtime(files, settings.lockFolder, channel),
      liveTickets(files, settings.lineFolder, channel, staleMs),
      lastToken(files, settings.fenceFolder, channel),
    ]);
  } catch (error) {
    if (!isConfigError(error)) throw error;
    throw new LockerConfigError(`FileStorageAdapter cannot inspect channels in ${join(settings.lockFolder, '..')}: ${(error as Error).message}`, error);
  }
  const [mtime, waiters, text] = found;
  const left = mtime === undefined ? -1 : mtime + staleMs - Date.now();
  const token = tokenOf(text);
  return { channel, held: left >= 0, ...(left >= 0 ? { expiresInMs: Math.round(left) } : {}), waiters, ...(token === undefined ? {} : { token }) };
};
