import type { AtomicLocker } from '../shared/contract.js';
import { inspectable, type LockInspection } from '../shared/inspection.js';
import { FileCache } from './cache/cache.js';
import { fsPromises } from './fs/fs-promises.js';
import { inspectChannel } from './inspect/inspect.js';
import { FileLocker } from './lock/locker.js';
import { ReleaseNotifier } from './notify/release-notifier.js';
import { resolveOptions, type FileStorageAdapterOptions } from './options.js';

/**
 * alova's l2Cache on the local filesystem, with a cross-process locker for `atomize`.
 * Layout: `<directory>/cache/` holds one JSON file per key, `<directory>/locks/` one lock per channel,
 * `<directory>/lines/` the fair lines of waiting tickets (one folder per channel, `fair` option),
 * `<directory>/fences/` the last fencing token of each channel. No operation follows a symbolic link
 * inside the directory; files are made `fileMode` (0o600), folders `dirMode` (0o700).
 */
export class FileStorageAdapter {
  /** The lock provider `atomize` finds at `alova.l2Cache.locker`. */
  readonly locker: AtomicLocker;
  readonly #cache: FileCache;
  readonly #locker: FileLocker;
  readonly #notifier: ReleaseNotifier | undefined;
  readonly #inspect: (channel: string) => Promise<LockInspection>;

  constructor(options: FileStorageAdapterOptions) {
    const settings = resolveOptions(options);
    const files = fsPromises(settings.fs);
    this.#cache = new FileCache(settings.cacheFolder, files, settings);
    this.#notifier = settings.notify ? new ReleaseNotifier(settings.lockFolder, undefined, { dirMode: settings.dirMode }) : undefined;
    this.locker = this.#locker = new FileLocker(settings, files, this.#notifier);
    this.#inspect = (channel) => inspectChannel(settings, files, channel);
  }

  /**
   * Stores `value` as JSON under `key`, atomically (readers see the old or the new value). A value
   * JSON cannot represent is a TypeError (`ERR_ATOMIZE_INVALID_VALUE`); an alova record that has
   * expired removes the entry; a failing filesystem rejects with `CacheError`.
   */
  set(key: string, value: unknown): Promise<void> {
    return this.#cache.set(key, value);
  }

  /** The value stored under `key`, or `undefined` (also when it is unreadable or has expired). */
  get<T>(key: string): Promise<T | undefined> {
    return this.#cache.get<T>(key);
  }

  remove(key: string): Promise<void> {
    return this.#cache.remove(key);
  }

  /** Removes this adapter's cache entries (not its locks, not other files). */
  clear(): Promise<void> {
    return this.#cache.clear();
  }

  /**
   * What `channel`'s lock looks like now, read from the directory without writing anything: held or
   * not (by this adapter's `stale`), for how long yet unless renewed, how many live waiters are in its
   * line, its last fencing token. It keeps working after `close()`.
   */
  async inspect(channel: string): Promise<LockInspection> {
    return this.#inspect(inspectable(channel));
  }

  /**
   * Stops the release notifier and the cache sweep, removes this adapter's waiting tickets and
   * releases the locks it holds. The cache methods keep working.
   */
  async close(): Promise<void> {
    this.#notifier?.close();
    const [, locker] = await Promise.allSettled([this.#cache.close(), this.#locker.close()]);
    if (locker.status === 'rejected') throw locker.reason;
  }
}
