import { mkdir } from 'node:fs/promises';

const codeOf = (error: unknown): unknown => (error as { code?: unknown } | null)?.code;

/** fs error codes that no retry mends: the directory is unwritable, read-only or in the way. */
const CONFIG_CODES = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EEXIST', 'ENAMETOOLONG', 'ELOOP']);

/** True when `error` says the adapter's directory cannot be used as configured. */
export const isConfigError = (error: unknown): boolean => CONFIG_CODES.has(codeOf(error) as string);

/**
 * A folder made (with its parents) at first use. `use(fn)` runs `fn` in it; when the folder has
 * vanished since (ENOENT), it is made again and `fn` runs once more.
 */
export const folder = (path: string) => {
  let made: Promise<unknown> | undefined;
  const make = (): Promise<unknown> =>
    (made ??= mkdir(path, { recursive: true }).catch((error: unknown) => {
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
