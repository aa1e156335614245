import type fs from 'node:fs';
import { noFollowOf } from '../fs/fs-promises.js';
import { takeOver, type Done } from './take-over.js';

const lost = (why: string): NodeJS.ErrnoException => Object.assign(new Error(`the lock ${why}`), { code: 'ELOST' });

/**
 * proper-lockfile probes the filesystem's mtime precision once per `fs` object (a utimes and a stat)
 * and caches it on that object under a private symbol. Every acquisition gets a view of its own, so
 * the views share one prototype per base fs, onto which the cached precision is lifted: only the
 * first acquisition pays for the probe.
 */
const shared = new WeakMap<object, object>();
const sharedBaseOf = (base: typeof fs): typeof fs => {
  let proto = shared.get(base);
  if (!proto) shared.set(base, (proto = Object.create(base) as object));
  return proto as typeof fs;
};
const liftCache = (view: object, proto: object): void => {
  for (const symbol of Object.getOwnPropertySymbols(view)) {
    if (!Object.prototype.hasOwnProperty.call(proto, symbol)) Object.defineProperty(proto, symbol, Object.getOwnPropertyDescriptor(view, symbol)!);
  }
};

/**
 * The fs that proper-lockfile gets for ONE acquisition of `lockPath`. It remembers the mtimes it
 * stamps on that lock, and removes the lock at release only while the lock still bears one of them:
 * a lock that was taken over by another holder (after this one went stale) or removed is left alone
 * and the release fails with code `ELOST`. proper-lockfile alone would remove the other holder's lock.
 * A stale lock is taken over under a guard (see `takeOver`). The lock is made with `dirMode`, and
 * never looked at or renewed through a symbolic link (lstat, lutimes): a link planted at its place
 * is judged by its own mtime, and a renewal never changes the mtime of what it points to. `onMade` is
 * called as soon as the mkdir of the lock succeeded (before proper-lockfile reads its first mtime).
 */
export const ownedFs = (base: typeof fs, lockPath: string, staleMs: number, dirMode: number, onMade?: () => void): typeof fs => {
  const stamps: number[] = [];
  let made = false;
  let stamping = 0;
  const afterStamp: Array<() => void> = [];
  const stamp = (ms: number): void => {
    stamps.push(ms);
    if (stamps.length > 2) stamps.shift();
  };
  const { lstat, lutimes } = noFollowOf(base);
  const proto = sharedBaseOf(base);
  const view = Object.create(proto) as typeof fs & Record<string, unknown>;
  Object.assign(view, {
    mkdir: (path: string, done: Done) =>
      base.mkdir(path, { mode: dirMode }, (error) => {
        if (!error && path === lockPath) {
          made = true;
          onMade?.(); // the lock is ours from here: what must be done under it may start
        }
        done(error);
      }),
    // The first stat after mkdir reads the lock's first mtime (when the precision probe is cached).
    stat: (path: string, done: (error: NodeJS.ErrnoException | null, stat: fs.Stats) => void) => {
      const stated = (error: NodeJS.ErrnoException | null, stat: fs.Stats): void => {
        if (!error && made && path === lockPath && stamping === 0) {
          const ms = stat.mtime.getTime();
          // The first mtime; or our last stamp as a filesystem with coarser timestamps stored it (a
          // holder that took over a stale lock would stamp at least `stale`, 2 s or more, later).
          const last = stamps[stamps.length - 1];
          if (last === undefined || (!stamps.includes(ms) && Math.abs(ms - last) < 1000)) stamp(ms);
        }
        done(error, stat);
        liftCache(view, proto);
      };
      if (path === lockPath) lstat(path, stated);
      else base.stat(path, stated);
    },
    utimes: (path: string, atime: Date, mtime: Date, done: Done) => {
      if (path !== lockPath) return base.utimes(path, atime, mtime, done);
      stamp(mtime.getTime());
      stamping++;
      lutimes(path, atime, mtime, (error) => {
        stamping--;
        for (const run of afterStamp.splice(0)) run();
        done(error);
      });
    },
    rmdir: (path: string, done: Done) => {
      if (path !== lockPath) return base.rmdir(path, done);
      // proper-lockfile removes a lock it did not make only to take it over when stale.
      if (!made) return takeOver(base, lockPath, staleMs, dirMode, done);
      const remove = (): void =>
        lstat(path, (error, stat) => {
          if (error) return done(error.code === 'ENOENT' ? lost('was removed by someone else') : error);
          if (!stamps.includes(stat.mtime.getTime())) return done(lost('was taken over by another holder'));
          base.rmdir(path, done);
        });
      // A renewal still on its way must land before the check (never on a later holder's lock).
      if (stamping > 0) afterStamp.push(remove);
      else remove();
    },
    rmdirSync: (path: string) => {
      if (path === lockPath && made && !stamps.includes((base.lstatSync ? base.lstatSync(path) : base.statSync(path)).mtime.getTime())) return;
      base.rmdirSync(path);
    },
  });
  return view;
};
