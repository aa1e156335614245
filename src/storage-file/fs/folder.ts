import { dirname } from 'node:path';
import { codeOf } from './fs-errors.js';
import type { FsPromises } from './fs-promises.js';

/** An entry inside the adapter's directory that is in the way of one of its folders. */
const notAFolder = (path: string, link: boolean): NodeJS.ErrnoException =>
  Object.assign(
    new Error(
      link
        ? `ELOOP: ${path} is a symbolic link: the adapter follows no links inside its directory (remove it, the adapter makes the folder again)`
        : `ENOTDIR: ${path} is not a folder`,
    ),
    { code: link ? 'ELOOP' : 'ENOTDIR', path },
  );

const missing = (path: string): NodeJS.ErrnoException => Object.assign(new Error(`ENOENT: ${path} vanished`), { code: 'ENOENT', path });

/**
 * True when `path` is a real folder, false when there is nothing; rejects (code ELOOP) when it is a
 * symbolic link, even to a folder, and (ENOTDIR) when it is something else.
 */
export const isRealFolder = async (files: FsPromises, path: string): Promise<boolean> => {
  let stats;
  try {
    stats = await files.lstat(path);
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return false;
    throw error;
  }
  if (stats.isDirectory()) return true;
  throw notAFolder(path, stats.isSymbolicLink());
};

/**
 * `mkdir -p` with `mode` for every folder it makes, one `mkdir` at a time: the caller sees the error
 * of the one that failed. (Node's recursive mkdir reports ENOENT on a full disk, not ENOSPC.) An
 * existing entry is left as it is (check it with {@link isRealFolder}).
 */
export const makeFolder = async (files: FsPromises, path: string, mode: number): Promise<void> => {
  try {
    await files.mkdir(path, { mode });
    return;
  } catch (error) {
    if (codeOf(error) === 'EEXIST') return;
    if (codeOf(error) !== 'ENOENT' || dirname(path) === path) throw error;
  }
  await makeFolder(files, dirname(path), mode);
  await files.mkdir(path, { mode }).catch((error: unknown) => {
    if (codeOf(error) !== 'EEXIST') throw error;
  });
};

/**
 * One of the adapter's folders (`cache/`, `locks/`, `lines/`, `fences/`), made with `mode` (and its
 * parents) at first use. Every use first checks that it is a real folder, not a symbolic link
 * (rejecting with code ELOOP) or a file (ENOTDIR): the adapter never follows a link out of its
 * directory. `use(fn)` runs `fn` in it; when the folder has vanished since (ENOENT), it is made
 * again and `fn` runs once more. The check of a use may be started earlier (`check()`, alongside the
 * checks of the other folders and the lock attempt's first steps) and handed to `use`: it still
 * comes before the use, without a round trip of its own on the way.
 */
export const folder = (path: string, files: FsPromises, mode: number) => {
  let made: Promise<unknown> | undefined;
  const make = (): Promise<unknown> =>
    (made ??= makeFolder(files, path, mode).catch((error: unknown) => {
      made = undefined;
      throw error;
    }));
  const ready = async (checked?: Promise<boolean>): Promise<void> => {
    // Checked a real folder just before this use: nothing to make.
    if (checked && (await checked)) return;
    await make();
    if (!(await isRealFolder(files, path))) throw missing(path);
  };
  return {
    path,
    /** True when the folder is there (and real), false when it is not (yet); never makes it. */
    exists: (): Promise<boolean> => isRealFolder(files, path),
    /**
     * The check of a coming `use`, started now: resolves as {@link isRealFolder}. Its rejection is
     * handled here (it surfaces from the `use` it is handed to), so an attempt that ends before its
     * use leaves no unhandled rejection.
     */
    check(): Promise<boolean> {
      const checked = isRealFolder(files, path);
      checked.catch(() => undefined);
      return checked;
    },
    /** Runs `fn` in the folder, after `checked` (a {@link check} started for this use) or a check of its own. */
    async use<T>(fn: () => Promise<T>, checked?: Promise<boolean>): Promise<T> {
      try {
        await ready(checked);
        return await fn();
      } catch (error) {
        if (codeOf(error) !== 'ENOENT') throw error;
        made = undefined;
        await ready();
        return fn();
      }
    },
  };
};

export type Folder = ReturnType<typeof folder>;
