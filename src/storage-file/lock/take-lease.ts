import lockfile from 'proper-lockfile';
import { join } from 'node:path';
import { fenceName, lockName } from '../cache/file-names.js';
import type { Folder } from '../fs/folder.js';
import { isConfigError } from '../fs/fs-errors.js';
import { unusableFolder } from '../fs/unusable.js';
import type { FileSettings } from '../options.js';
import { FileLockHandle } from './lock-handle.js';
import { nextToken } from './fence-file.js';
import { ownedFs } from './owned-fs.js';
import type { FsPromises } from '../fs/fs-promises.js';

/** proper-lockfile's floor of `stale`, which it applies to any smaller value. */
const MIN_STALE_MS = 2000;

/**
 * One attempt at `channel` with proper-lockfile: a handle, or `null` when another holder has it
 * (a stale lock is taken over). Never waits (`retries: 0`); never throws from a timer (own
 * `onCompromised`). Unusable directory (also a link in place of `locks/` or `fences/`) ->
 * `LockerConfigError`; any other fs error rejects as it is.
 * The handle carries the acquisition's fencing token, made under the lock (`fences/<stem>.fence`); a
 * token that cannot be written gives the lock back and rejects.
 */
export const takeLease = async (
  channel: string,
  locks: Folder,
  settings: FileSettings,
  fences: Folder,
  files: FsPromises,
  onEnd: () => void,
): Promise<FileLockHandle | null> => {
  const path = join(locks.path, lockName(channel));
  let handle: FileLockHandle | undefined;
  let early: unknown;
  const options = {
    stale: settings.stale,
    update: settings.update,
    retries: 0,
    realpath: false,
    lockfilePath: path,
    fs: ownedFs(settings.fs, path, Math.max(settings.stale, MIN_STALE_MS), settings.dirMode),
    onCompromised: (error: Error) => (handle ? handle.lose(error) : (early = error)),
  };
  try {
    const unlock = await locks.use(() => lockfile.lock(path, options));
    let token: number;
    try {
      token = await fences.use(() => nextToken(files, join(fences.path, fenceName(channel)), settings.fileMode));
    } catch (error) {
      await unlock().catch(() => undefined);
      throw error;
    }
    handle = new FileLockHandle(channel, unlock, onEnd, token);
    if (early) handle.lose(early);
    return handle;
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ELOCKED') return null;
    if (isConfigError(error)) {
      throw await unusableFolder(files, 'take locks', locks.path, error);
    }
    throw error;
  }
};
