import { randomBytes } from 'node:crypto';
import { readdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { folder, type Folder } from './folders.js';
import { fileStem, isStemFile } from './names.js';

const EXTENSION = '.json';
const codeOf = (error: unknown): unknown => (error as { code?: unknown } | null)?.code;

/**
 * The l2Cache part: one JSON file per key. A write goes to a temporary file of its own, then is
 * renamed over the entry, so readers in any process see the old or the new value, never a mix.
 */
export class FileCache {
  readonly #folder: Folder;
  #writes = 0;

  constructor(path: string) {
    this.#folder = folder(path);
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
        await writeFile(temp, text, { flag: 'wx' });
        await rename(temp, entry);
      } catch (error) {
        await rm(temp, { force: true });
        throw error;
      }
    });
  }

  async get<T>(key: string): Promise<T | undefined> {
    let text: string;
    try {
      text = await readFile(this.#pathOf(key), 'utf8');
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
    await unlink(this.#pathOf(key)).catch(ignoreMissing);
  }

  /** Removes the entries only: not the locks, not temporary files of writes in progress, not foreign files. */
  async clear(): Promise<void> {
    const names = await readdir(this.#folder.path).catch((error: unknown) => (codeOf(error) === 'ENOENT' ? [] : Promise.reject(error)));
    const entries = names.filter((name) => isStemFile(name, EXTENSION));
    await Promise.all(entries.map((name) => unlink(join(this.#folder.path, name)).catch(ignoreMissing)));
  }
}

const ignoreMissing = (error: unknown): void => {
  if (codeOf(error) !== 'ENOENT') throw error;
};
