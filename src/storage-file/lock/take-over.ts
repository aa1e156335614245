import type fs from 'node:fs';
import { noFollowOf } from '../fs/fs-promises.js';

export type Done = (error: NodeJS.ErrnoException | null) => void;

const busy = (): NodeJS.ErrnoException => Object.assign(new Error('the lock is being taken over by another process'), { code: 'ELOCKED' });

/**
 * Removes the stale lock at `lockPath` so that the caller may take it, serialized with every other
 * process doing the same by a guard directory (`<lock>.takeover`, made by mkdir, held for a few file
 * operations): under the guard the lock is checked again, and removed only while still stale. Without
 * it, two processes that both found the lock stale could each remove it, the later one removing the
 * fresh lock the earlier one had just made, and both would hold it. A guard left by a process that
 * died within those few operations is removed once it is `staleMs` old. Fails with `ELOCKED` when
 * another process is taking over or the lock was renewed meanwhile. Links are never followed (lstat).
 */
export const takeOver = (base: typeof fs, lockPath: string, staleMs: number, dirMode: number, done: Done): void => {
  const guard = `${lockPath}.takeover`;
  const { lstat } = noFollowOf(base);
  base.mkdir(guard, { mode: dirMode }, (guardError) => {
    if (guardError) {
      if (guardError.code !== 'EEXIST') return done(guardError);
      return lstat(guard, (error, stat) => {
        if (error || Date.now() - stat.mtime.getTime() <= staleMs) return done(busy());
        base.rmdir(guard, () => done(busy()));
      });
    }
    const finish = (error: NodeJS.ErrnoException | null): void => base.rmdir(guard, () => done(error));
    lstat(lockPath, (statError, stat) => {
      if (statError) return finish(statError.code === 'ENOENT' ? null : statError);
      if (Date.now() - stat.mtime.getTime() <= staleMs) return finish(busy());
      // A link (or file) planted in the lock's place goes like an abandoned lock: the link itself.
      const remove = stat.isDirectory() ? base.rmdir : base.unlink;
      remove.call(base, lockPath, (error: NodeJS.ErrnoException | null) => finish(error && error.code !== 'ENOENT' ? error : null));
    });
  });
};
