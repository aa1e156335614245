import fs from 'node:fs';
import { join, resolve } from 'node:path';
import { describe } from '../shared/errors.js';
import { FILE_STORAGE_DEFAULTS } from '../shared/defaults.js';
import { refuseUnknownOptions } from '../shared/known-options.js';

/** The proper-lockfile options a user may set; retries, realpath, lockfilePath and onCompromised are the adapter's. */
export interface FileLockerOptions {
  /**
   * Milliseconds after its last renewal when a lock counts as abandoned and may be taken over
   * (at least 2000: a smaller value is refused with a TypeError).
   * @default 5000
   */
  stale?: number;
  /**
   * Milliseconds between renewals of a held lock (from 1000 to `stale / 2`: another value is refused
   * with a TypeError).
   * @default 1000
   */
  update?: number;
  /** The fs module of the adapter's locks (through proper-lockfile), fair lines and cache. @default require('node:fs') */
  fs?: unknown;
}

/** Options of `FileStorageAdapter`. */
export interface FileStorageAdapterOptions {
  /** The folder of cache entries and locks (made with its parents when missing). Required. */
  directory: string;
  /** Lock options passed to proper-lockfile (its `fs` serves the fair lines and the cache too). */
  lockerOptions?: FileLockerOptions;
  /**
   * Wake waiting `atomize` calls when a channel is released (fs.watch on the lock folder); when
   * false, `locker.onRelease` is undefined and waiters poll.
   * @default true
   */
  notify?: boolean;
  /**
   * Serve waiting `atomize` calls of every process in arrival order: each wait (a `WaitTicket`)
   * queues a ticket file in `<directory>/lines/<lock name>/`, and only the first live ticket may
   * take the lock. When false, whoever tries first after a release wins (no line files).
   * @default true
   */
  fair?: boolean;
  /**
   * Mode of the files the adapter creates (cache entries, tickets, fencing tokens); it must let the
   * owner read and write (0o600 to 0o777). The process umask applies on top.
   * @default 0o600
   */
  fileMode?: number;
  /**
   * Mode of the folders the adapter creates (its directory when missing, `cache/`, `locks/`, `lines/`,
   * `fences/` and the folders in them); it must give the owner all rights (0o700 to 0o777). The
   * process umask applies on top. Every process that shares the directory needs write access to it.
   * @default 0o700
   */
  dirMode?: number;
  /**
   * Milliseconds between two sweeps of expired cache entries, at least (a sweep starts when the
   * process writes to the cache, never from a timer).
   * @default 5000
   */
  sweepInterval?: number;
  /**
   * Cache entries a sweep reads at most (and about 4 MiB); 0 turns the sweep off (expired entries are
   * then removed only when read).
   * @default 200
   */
  sweepBatch?: number;
}

/** Options after checking, with absolute paths. */
export interface FileSettings {
  readonly cacheFolder: string;
  readonly lockFolder: string;
  /** Where the lines of waiting tickets live, one folder per channel (used when `fair`). */
  readonly lineFolder: string;
  /** Where each channel's last fencing token is kept, one file per channel. */
  readonly fenceFolder: string;
  readonly stale: number;
  readonly update: number;
  readonly fs: typeof fs;
  readonly notify: boolean;
  readonly fair: boolean;
  readonly fileMode: number;
  readonly dirMode: number;
  readonly sweepInterval: number;
  readonly sweepBatch: number;
}

const bad = (option: string, value: unknown, expected: string): TypeError =>
  Object.assign(new TypeError(`FileStorageAdapter: invalid option \`${option}\` ${describe(value)}: expected ${expected}`), {
    code: 'ERR_ATOMIZE_INVALID_OPTION',
    option,
    value,
  });

/** proper-lockfile's floors: it raises a smaller `stale` to 2000 ms, and keeps `update` from 1000 ms to `stale / 2`. */
const MIN_STALE = 2000;
const MIN_UPDATE = 1000;

/**
 * proper-lockfile's options that the adapter sets itself: given in `lockerOptions`, they would be
 * ignored, so they are refused, with the reason.
 */
const ADAPTER_OWNED: Readonly<Record<string, string>> = {
  retries: 'each lock attempt is a single try, and `atomize` does the waiting (its `timeout` and `interval`)',
  realpath: 'the adapter resolves `directory` once, when it is created, and follows no link inside it',
  lockfilePath: "each channel's lock has its own path in `<directory>/locks/`",
  onCompromised: "a lost lock aborts its handle's `signal` (atomize aborts the request and rejects with `LockLostError`)",
};

const adapterOwned = (lockerOptions: object): void => {
  for (const [name, why] of Object.entries(ADAPTER_OWNED)) {
    if ((lockerOptions as Record<string, unknown>)[name] === undefined) continue;
    throw Object.assign(new TypeError(`FileStorageAdapter: option \`lockerOptions.${name}\` cannot be set, the adapter sets it: ${why}`), {
      code: 'ERR_ATOMIZE_INVALID_OPTION',
      option: `lockerOptions.${name}`,
      value: (lockerOptions as Record<string, unknown>)[name],
    });
  }
};

const milliseconds = (option: string, value: unknown, fallback: number): number => {
  if (value === undefined) return fallback;
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value;
  throw bad(option, value, 'a positive finite number of milliseconds');
};

/** A file or folder mode: an integer up to 0o777 with at least the `owner` bits (0o600 or 0o700). */
const mode = (option: string, value: unknown, fallback: number, owner: number): number => {
  if (value === undefined) return fallback;
  if (Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 0o777 && ((value as number) & owner) === owner) return value as number;
  throw bad(option, value, `a mode from 0o${owner.toString(8)} to 0o777 that gives the owner at least 0o${owner.toString(8)}`);
};

/** Every option name: any other is refused, with the closest of these named. */
const OPTION_KEYS = [
  'directory', 'lockerOptions', 'notify', 'fair', 'fileMode', 'dirMode', 'sweepInterval', 'sweepBatch',
] as const satisfies ReadonlyArray<keyof FileStorageAdapterOptions>;
const LOCKER_OPTION_KEYS = ['stale', 'update', 'fs'] as const satisfies ReadonlyArray<keyof FileLockerOptions>;
// A name added to an interface and not to its list would be refused at run time: a compile error here.
const everyName: [Exclude<keyof FileStorageAdapterOptions, (typeof OPTION_KEYS)[number]>, Exclude<keyof FileLockerOptions, (typeof LOCKER_OPTION_KEYS)[number]>] =
  [] as unknown as [never, never];
void everyName;

/** Checks the options and applies the defaults; throws a coded `TypeError` naming a bad option. */
export const resolveOptions = (options: FileStorageAdapterOptions): FileSettings => {
  if (options === null || typeof options !== 'object') throw bad('options', options, 'an object with `directory`');
  refuseUnknownOptions('FileStorageAdapter', options, OPTION_KEYS);
  const { directory, lockerOptions = {}, notify = FILE_STORAGE_DEFAULTS.notify, fair = FILE_STORAGE_DEFAULTS.fair } = options;
  if (typeof directory !== 'string' || directory === '') throw bad('directory', directory, 'a non-empty path string');
  if (lockerOptions === null || typeof lockerOptions !== 'object') throw bad('lockerOptions', lockerOptions, 'an object');
  adapterOwned(lockerOptions);
  // Values proper-lockfile would change are refused: the lease is what the options say.
  const stale = milliseconds('lockerOptions.stale', lockerOptions.stale, FILE_STORAGE_DEFAULTS.stale);
  if (stale < MIN_STALE) throw bad('lockerOptions.stale', stale, `at least ${MIN_STALE} ms (proper-lockfile's minimum)`);
  const update = milliseconds('lockerOptions.update', lockerOptions.update, FILE_STORAGE_DEFAULTS.update);
  if (update < MIN_UPDATE || update > stale / 2) {
    throw bad('lockerOptions.update', update, `from ${MIN_UPDATE} ms to half of \`stale\` (${stale / 2} ms): renewals must come at least twice per lease`);
  }
  refuseUnknownOptions('FileStorageAdapter', lockerOptions, LOCKER_OPTION_KEYS, 'lockerOptions.');
  if (typeof notify !== 'boolean') throw bad('notify', notify, 'a boolean');
  if (typeof fair !== 'boolean') throw bad('fair', fair, 'a boolean');
  const { sweepBatch = FILE_STORAGE_DEFAULTS.sweepBatch } = options;
  if (!Number.isSafeInteger(sweepBatch) || sweepBatch < 0) throw bad('sweepBatch', sweepBatch, 'a whole number of entries, 0 or more (0: no sweep)');
  const root = resolve(directory);
  return {
    cacheFolder: join(root, 'cache'),
    lockFolder: join(root, 'locks'),
    lineFolder: join(root, 'lines'),
    fenceFolder: join(root, 'fences'),
    stale,
    update,
    fs: (lockerOptions.fs as typeof fs | undefined) ?? fs,
    notify,
    fair,
    fileMode: mode('fileMode', options.fileMode, FILE_STORAGE_DEFAULTS.fileMode, 0o600),
    dirMode: mode('dirMode', options.dirMode, FILE_STORAGE_DEFAULTS.dirMode, 0o700),
    sweepInterval: milliseconds('sweepInterval', options.sweepInterval, FILE_STORAGE_DEFAULTS.sweepInterval),
    sweepBatch,
  };
};
