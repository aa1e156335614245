import type fs from 'node:fs';

/** Options of a file the adapter writes: numeric open flags (see no-follow.ts) and the file's mode. */
export interface WriteOptions {
  flag?: string | number;
  mode?: number;
}

/** The file operations of the cache, the fair line and the fences, as promises. */
export interface FsPromises {
  writeFile(path: string, data: string, options: WriteOptions): Promise<void>;
  readFile(path: string, options: { encoding: 'utf8'; flag?: string | number }): Promise<string>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  readdir(path: string): Promise<string[]>;
  mkdir(path: string, options: fs.MakeDirectoryOptions): Promise<unknown>;
  rmdir(path: string): Promise<void>;
  /** The entry itself, never what a symbolic link points to. */
  lstat(path: string): Promise<fs.Stats>;
  /** Sets the times of the entry itself, never of what a symbolic link points to. */
  lutimes(path: string, atime: Date, mtime: Date): Promise<void>;
  rm(path: string, options: fs.RmOptions): Promise<void>;
  /** A file descriptor (numeric flags: see no-follow.ts); the fencing tokens use these four. */
  open(path: string, flags: number, mode?: number): Promise<number>;
  /** Bytes read into `buffer` from `position`. */
  read(fd: number, buffer: Buffer, offset: number, length: number, position: number): Promise<number>;
  /** Bytes of `buffer` written (at the current position). */
  write(fd: number, buffer: Buffer): Promise<number>;
  close(fd: number): Promise<void>;
}

const METHODS = ['writeFile', 'readFile', 'rename', 'unlink', 'readdir', 'mkdir', 'rmdir', 'lstat', 'lutimes', 'rm', 'open', 'read', 'write', 'close'] as const;

type Callback = (error: NodeJS.ErrnoException | null, value?: unknown) => void;
type Method = (...args: unknown[]) => void;

/** A symbolic link where the adapter expects its own file: refused, with the code O_NOFOLLOW gives. */
export const isLinkError = (path: string): NodeJS.ErrnoException =>
  Object.assign(new Error(`ELOOP: ${path} is a symbolic link, which the adapter never follows`), { code: 'ELOOP', path });

/**
 * An fs without `lstat` / `lutimes` (an old or partial fs module given as `lockerOptions.fs`) gets
 * stand-ins that never follow a link either: `stat` for `lstat` (only where no `lstat` exists), and
 * for `lutimes` an `lstat` that refuses a link, then `utimes`.
 */
const withNoFollow = (methods: Record<string, Method | undefined>): Record<string, Method> => {
  const lstat = methods.lstat ?? methods.stat!;
  const lutimes: Method =
    methods.lutimes ??
    ((path, atime, mtime, done) =>
      lstat(path, (error: NodeJS.ErrnoException | null, stats?: fs.Stats) => {
        if (error) return (done as Callback)(error);
        if (stats!.isSymbolicLink()) return (done as Callback)(isLinkError(String(path)));
        methods.utimes!(path, atime, mtime, done);
      }));
  return { ...methods, lstat, lutimes } as Record<string, Method>;
};

/**
 * The callback methods of `base` (node:fs, or the `lockerOptions.fs` given, e.g. graceful-fs) as
 * promises, so that every file operation of an adapter goes through the same fs. Each call looks the
 * method up on `base` then.
 */
export const fsPromises = (base: typeof fs): FsPromises => {
  const methods = base as unknown as Record<string, Method | undefined>;
  const promised = (name: string) => (...args: unknown[]) =>
    new Promise((resolve, reject) => {
      const done: Callback = (error, value) => (error ? reject(error) : resolve(value));
      const method = methods[name] ?? withNoFollow(methods)[name]!;
      method.call(base, ...args, done);
    });
  return Object.fromEntries(METHODS.map((name) => [name, promised(name)])) as unknown as FsPromises;
};

/** `lstat` and `lutimes` of `base` in callback style, with the stand-ins above where it has none. */
export const noFollowOf = (base: typeof fs): { lstat: typeof fs.lstat; lutimes: typeof fs.lutimes } => {
  const methods = withNoFollow(base as unknown as Record<string, Method | undefined>);
  return {
    lstat: ((...args: unknown[]) => methods.lstat!.call(base, ...args)) as unknown as typeof fs.lstat,
    lutimes: ((...args: unknown[]) => methods.lutimes!.call(base, ...args)) as unknown as typeof fs.lutimes,
  };
};
