import { codeOf } from './fs-errors.js';
import type { FsPromises } from './fs-promises.js';

/**
 * A folder made (with its parents) at first use. `use(fn)` runs `fn` in it; when the folder has
 * vanished since (ENOENT), it is made again and `fn` runs once more.
 */
export const folder = (path: string, files: FsPromises) => {
  let made: Promise<unknown> | undefined;
  const make = (): Promise<unknown> =>
    (made ??= files.mkdir(path, { recursive: true }).catch((error: unknown) => {
      made = undefined;
      throw error;
    }));
  return {
    path,
    make,
    async use<T>(fn: () => Promise<T>): Promise<T> {
      await make();
      try {
        return await fn();
      } catch (error) {
        if (codeOf(error) !== 'ENOENT') throw error;
        made = undefined;
        await make();
        return fn();
      }
    },
  };
};

export type Folder = ReturnType<typeof folder>;
