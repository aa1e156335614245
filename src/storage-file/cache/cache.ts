import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { CacheError } from '../../shared/errors.js';
import { folder, type Folder } from '../fs/folder.js';
import { ignoreMissing } from '../fs/fs-errors.js';
import type { FsPromises } from '../fs/fs-promises.js';
import { CREATE_FLAGS } from '../fs/no-follow.js';
import { readEntry } from './entry-file.js';
import { fileStem, isStemFile } from './file-names.js';
import { isExpired, serialize } from './record.js';
import { CacheSweep } from './sweep.js';
import { processWrites } from './write-order.js';

const EXTENSION = '.json';
const ADAPTER = 'FileStorageAdapter';

/** How the cache writes its files and sweeps expired entries (see the adapter's options). */
export interface CacheSettings {
  readonly fileMode: number;
  readonly dirMode: number;
  readonly sweepInterval: number;
  readonly sweepBatch: number;
}

/**
 * The l2Cache part: one JSON file per key. A write goes to a temporary file of its own, then is
 * renamed over the entry, so readers in any process see the old or the new value, never a mix.
 * No link is followed: the folder is checked to be a real folder before each operation, and entries
 * are opened with O_NOFOLLOW. alova's expired records are removed when read, and by a bounded sweep.
 * Writes (`set`, `remove`) of one entry issued in this process (by any adapter) land in the order they
 * were issued.
 * A failure of the filesystem rejects with `CacheError` (`cause`: the fs error).
 */
export class FileCache {
  readonly #folder: Folder;
  readonly #files: FsPromises;
  readonly #fileMode: number;
  readonly #sweep: CacheSweep;
  readonly #order = processWrites;
  #writes = 0;

  constructor(path: string, files: FsPromises, settings: CacheSettings) {
    this.#folder = folder(path, files, settings.dirMode);
    this.#files = files;
    this.#fileMode = settings.fileMode;
    this.#sweep = new CacheSweep(this.#folder, files, EXTENSION, settings.sweepInterval, settings.sweepBatch);
  }

  #pathOf(key: string): string {
    if (typeof key !== 'string') {
      throw Object.assign(new TypeError(`${ADAPTER}: cache keys are strings, got ${typeof key}`), { code: 'ERR_ATOMIZE_INVALID_KEY' });
    }
    return join(this.#folder.path, fileStem(key) + EXTENSION);
  }

  /**
   * Stores `value` as JSON. A value JSON cannot represent is refused (TypeError) and the entry is left
   * as it was; an alova record that has expired already stores nothing and removes the entry.
   */
  async set(key: string, value: unknown): Promise<void> {
    const entry = this.#pathOf(key);
    const text = serialize(value, ADAPTER);
    if (isExpired(value)) return this.#removing('set', key, entry);
    const temp = `${entry}.${process.pid}-${(this.#writes++).toString(36)}-${randomBytes(6).toString('hex')}.tmp`;
    // Its place among this process's writes of the key, taken now: a write issued later wins even
    // when this one's file is written last.
    const turn = this.#order.issue(entry);
    try {
      await this.#folder.use(async () => {
        try {
          await this.#files.writeFile(temp, text, { flag: CREATE_FLAGS, mode: this.#fileMode });
          if (!(await turn.land(() => this.#files.rename(temp, entry)))) await this.#files.rm(temp, { force: true });
        } catch (error) {
          await this.#files.rm(temp, { force: true }).catch(() => undefined);
          throw error;
        }
      });
    } catch (error) {
      throw new CacheError('set', key, error);
    } finally {
      turn.done();
    }
    this.#sweep.poke();
  }

  /** The value stored under `key`; `undefined` when there is none, it is unreadable or it expired (then it is removed). */
  async get<T>(key: string): Promise<T | undefined> {
    const path = this.#pathOf(key);
    let entry;
    try {
      if (!(await this.#folder.exists())) return undefined;
      entry = await readEntry(this.#files, path);
    } catch (error) {
      throw new CacheError('get', key, error);
    }
    if (entry.kind === 'missing') return undefined;
    if (entry.kind === 'unreadable') {
      // Not written by this adapter (or cut by a power loss): a miss, which the next set replaces.
      process.emitWarning(`${ADAPTER}: unreadable cache entry ${path} treated as missing (${entry.why})`, { code: 'ERR_ATOMIZE_CACHE_ENTRY' });
      return undefined;
    }
    if (isExpired(entry.value)) {
      // Housekeeping: the answer is a miss either way. A value written over it in this very moment
      // may go with it (a miss later, never a wrong value).
      await this.#files.unlink(path).catch(() => undefined);
      return undefined;
    }
    return entry.value as T;
  }

  remove(key: string): Promise<void> {
    return this.#removing('remove', key, this.#pathOf(key));
  }

  /** Removes the entries only: not the locks, not temporary files of writes in progress, not foreign files. */
  async clear(): Promise<void> {
    try {
      if (!(await this.#folder.exists())) return;
      const names = await this.#files.readdir(this.#folder.path);
      const entries = names.filter((name) => isStemFile(name, EXTENSION));
      await Promise.all(entries.map((name) => this.#files.unlink(join(this.#folder.path, name)).catch(ignoreMissing)));
    } catch (error) {
      throw new CacheError('clear', undefined, error);
    }
  }

  /** Stops the sweep (the other methods keep working). */
  close(): Promise<void> {
    return this.#sweep.stop();
  }

  async #removing(operation: 'set' | 'remove', key: string, path: string): Promise<void> {
    const turn = this.#order.issue(path);
    try {
      await turn.land(async () => {
        if (await this.#folder.exists()) await this.#files.unlink(path).catch(ignoreMissing);
      });
    } catch (error) {
      throw new CacheError(operation, key, error);
    } finally {
      turn.done();
    }
  }
}
