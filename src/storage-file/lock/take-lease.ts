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

/** What an acquisition tells its caller on the way (see {@link takeLease}). */
export interface LeaseHooks {
  /** The lock directory was made (the lock is taken, unless proper-lockfile fails to read it back). */
  readonly made?: () => void;
  /** The lock was taken but its token could not be made: awaited before the lock is given back. */
  readonly givingBack?: () => Promise<void>;
}

/** proper-lockfile's floor of `stale`, which it applies to any smaller value. */
const MIN_STALE_MS = 2000;

/**
 * One attempt at `channel` with proper-lockfile: a handle, or `null` when another holder has it
 * (a stale lock is taken over). Never waits (`retries: 0`); never throws from a timer (own
 * `onCompromised`). Unusable directory (also a link in place of `locks/` or `fences/`) ->
 * `LockerConfigError`; any other fs error rejects as it is.
 * The handle carries the acquisition's fencing token, made under the lock (`fences/<stem>.fence`); a
 * token that cannot be written gives the lock back and rejects. `locksChecked` is the check of the
 * lock folder when the caller started it already (alongside its reading of the line); the fence
 * folder's check runs alongside the lock attempt. Each check still comes before its folder's use.
 * The token is made as soon as the lock directory is made (under the lock, while proper-lockfile reads
 * the lock's first mtime); `hooks.made` is called then too.
 */
export const takeLease = async (
  channel: string,
  locks: Folder,
  settings: FileSettings,
  fences: Folder,
  files: FsPromises,
  onEnd: () => void,
  locksChecked: Promise<boolean> = locks.check(),
  hooks: LeaseHooks = {},
): Promise<FileLockHandle | null> => {
  const fencesChecked = fences.check();
  const path = join(locks.path, lockName(channel));
  let handle: FileLockHandle | undefined;
  let early: unknown;
  const fence = (): Promise<number> => fences.use(() => nextToken(files, join(fences.path, fenceName(channel)), settings.fileMode), fencesChecked);
  let fencing: Promise<number> | undefined;
  // The lock directory is made: the token is made under it from now, alongside proper-lockfile's own
  // first reading of the lock. (Made again after it vanished at once: the next token after this one.)
  const onMade = (): void => {
    fencing = fencing ? fencing.catch(() => 0).then(fence) : fence();
    fencing.catch(() => undefined); // awaited below, once the lock is confirmed
    hooks.made?.();
  };
  const options = {
    stale: settings.stale,
    update: settings.update,
    retries: 0,
    realpath: false,
    lockfilePath: path,
    fs: ownedFs(settings.fs, path, Math.max(settings.stale, MIN_STALE_MS), settings.dirMode, onMade),
    onCompromised: (error: Error) => (handle ? handle.lose(error) : (early = error)),
  };
  try {
    const unlock = await locks.use(() => lockfile.lock(path, options), locksChecked);
    let token: number;
    try {
      token = await (fencing ?? fence());
    } catch (error) {
      await hooks.givingBack?.();
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
