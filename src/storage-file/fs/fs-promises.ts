import type fs from 'node:fs';

/** The file operations of the cache and the fair line, as promises. */
export interface FsPromises {
  writeFile(path: string, data: string, options: fs.WriteFileOptions): Promise<void>;
  readFile(path: string, encoding: 'utf8'): Promise<string>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  readdir(path: string): Promise<string[]>;
  mkdir(path: string, options: fs.MakeDirectoryOptions): Promise<unknown>;
  rmdir(path: string): Promise<void>;
  stat(path: string): Promise<fs.Stats>;
  utimes(path: string, atime: Date, mtime: Date): Promise<void>;
  rm(path: string, options: fs.RmOptions): Promise<void>;
}

const METHODS = ['writeFile', 'readFile', 'rename', 'unlink', 'readdir', 'mkdir', 'rmdir', 'stat', 'utimes', 'rm'] as const;

type Callback = (error: NodeJS.ErrnoException | null, value?: unknown) => void;

/**
 * The callback methods of `base` (node:fs, or the `lockerOptions.fs` given, e.g. graceful-fs) as
 * promises, so that every file operation of an adapter goes through the same fs. Each call looks the
 * method up on `base` then.
 */
export const fsPromises = (base: typeof fs): FsPromises => {
  const methods = base as unknown as Record<string, (...args: unknown[]) => void>;
  const promised = (name: string) => (...args: unknown[]) =>
    new Promise((resolve, reject) => {
      const done: Callback = (error, value) => (error ? reject(error) : resolve(value));
      methods[name]!(...args, done);
    });
  return Object.fromEntries(METHODS.map((name) => [name, promised(name)])) as unknown as FsPromises;
};
