import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { folder, type Folder } from '../fs/folder.js';
import { codeOf, ignoreMissing } from '../fs/fs-errors.js';
import type { FsPromises } from '../fs/fs-promises.js';
import { fileStem, isStemFile } from './file-names.js';

const EXTENSION = '.json';

/**
 * The l2Cache part: one JSON file per key. A write goes to a temporary file of its own, then is
 * renamed over the entry, so readers in any process see the old or the new value, never a mix.
 */
export class FileCache {
  readonly #folder: Folder;
  readonly #files: FsPromises;
  #writes = 0;

  constructor(path: string, files: FsPromises) {
    this.#folder = folder(path, files);
    this.#files = files;
  }

  #pathOf(key: string): string {
    if (typeof key !== 'string') {
      throw Object.assign(new TypeError(`FileStorageAdapter: cache keys are strings, got ${typeof key}`), { code: 'ERR_ATOMIZE_INVALID_KEY' });
    }
    return join(this.#folder.path, fileStem(key) + EXTENSION);
  }

  async set(key: string, value: unknown): Promise<void> {
    const text = JSON.stringify(value);
    if (text === undefined) return this.remove(key);
    const entry = this.#pathOf(key);
    const temp = `${entry}.${process.pid}-${(this.#writes++).toString(36)}-${randomBytes(6).toString('hex')}.tmp`;
    await this.#folder.use(async () => {
      try {
        await this.#files.writeFile(temp, text, { flag: 'wx' });
        await this.#files.rename(temp, entry);
      } catch (error) {
        await this.#files.rm(temp, { force: true });
        throw error;
      }
    });
  }

  async get<T>(key: string): Promise<T | undefined> {
    let text: string;
    try {
      text = await this.#files.readFile(this.#pathOf(key), 'utf8');
    } catch (error) {
      if (codeOf(error) === 'ENOENT') return undefined;
      throw error;
    }
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      // Not written by this adapter (or cut by a power loss): a miss, which the next set replaces.
      process.emitWarning(`FileStorageAdapter: unreadable cache entry ${this.#pathOf(key)} treated as missing (${String(error)})`, {
        code: 'ERR_ATOMIZE_CACHE_ENTRY',
      });
      return undefined;
    }
  }

  async remove(key: string): Promise<void> {
    await this.#files.unlink(this.#pathOf(key)).catch(ignoreMissing);
  }

  /** Removes the entries only: not the locks, not temporary files of writes in progress, not foreign files. */
  async clear(): Promise<void> {
    const names = await this.#files.readdir(this.#folder.path).catch((error: unknown) => (codeOf(error) === 'ENOENT' ? [] : Promise.reject(error)));
    const entries = names.filter((name) => isStemFile(name, EXTENSION));
    await Promise.all(entries.map((name) => this.#files.unlink(join(this.#folder.path, name)).catch(ignoreMissing)));
  }
}
