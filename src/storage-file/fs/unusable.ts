/** Why the adapter cannot use a folder of its directory, in words: which path, what is wrong, what to do. */
import { dirname } from 'node:path';
import { LockerConfigError } from '../../shared/errors.js';
import { codeOf } from './fs-errors.js';
import type { FsPromises } from './fs-promises.js';

/** The nearest of `path` and its parents that exists (`lstat` answers), with what it is. */
const nearest = async (files: FsPromises, path: string): Promise<{ path: string; folder: boolean; link: boolean } | undefined> => {
  for (let at = path; ; at = dirname(at)) {
    try {
      const stats = await files.lstat(at);
      return { path: at, folder: stats.isDirectory(), link: stats.isSymbolicLink() };
    } catch {
      // Missing (or unreadable): look at its parent.
    }
    if (dirname(at) === at) return undefined;
  }
};

const user = (): string => (process.getuid ? `uid ${process.getuid()}` : 'its user');

/** What is wrong, and what to do, for one fs error under `folder`. */
const explain = async (files: FsPromises, folder: string, error: unknown): Promise<string> => {
  const code = codeOf(error) as string | undefined;
  const path = ((error as { path?: unknown } | null)?.path as string | undefined) ?? folder;
  switch (code) {
    case 'ENOTDIR':
    case 'EEXIST': {
      // Something that is not a folder stands where the adapter needs one: the nearest existing entry.
      const found = await nearest(files, folder);
      if (found && !found.folder) {
        return `${found.path} is ${found.link ? 'a symbolic link' : 'a file'}, not a folder (${code}): give \`directory\` a path whose parents are folders, or move ${found.path} away`;
      }
      return `a path under ${folder} is not a folder (${code}): give \`directory\` a path whose parents are folders`;
    }
    case 'EACCES':
    case 'EPERM': {
      // Making or writing an entry needs write access to the folder that holds it.
      const making = ['mkdir', 'open', 'rename', 'unlink', 'rmdir'].includes((error as { syscall?: string }).syscall ?? '');
      const where = making ? dirname(path) : path;
      return `permission denied on ${path} (${code}): this process (${user()}) may not write in ${where}; give it write access there (chown, chmod), or choose a \`directory\` it owns`;
    }
    case 'EROFS': {
      const found = await nearest(files, path);
      return `${found?.path ?? path} is on a read-only filesystem (EROFS): give \`directory\` a folder on a writable filesystem`;
    }
    case 'ELOOP':
      return `${path} is a symbolic link (ELOOP): the adapter follows no links inside its directory; remove it, and the adapter makes the folder again`;
    case 'ENAMETOOLONG':
      return `the path ${path} is too long for the filesystem (ENAMETOOLONG): give \`directory\` a shorter path`;
    default:
      return `${(error as Error | null)?.message ?? String(error)}`;
  }
};

/**
 * A `LockerConfigError` for an fs error that no retry mends, met while `doing` something in `folder`
 * (one of the adapter's folders, right under its directory): it names the directory, the path at
 * fault, the reason (ENOTDIR, EACCES, EROFS, ...) and what to do; the fs error is its `cause`.
 */
export const unusableFolder = async (files: FsPromises, doing: string, folder: string, error: unknown): Promise<LockerConfigError> =>
  new LockerConfigError(`FileStorageAdapter cannot ${doing} in its directory ${dirname(folder)}: ${await explain(files, folder, error)}`, error);
