import { join } from 'node:path';
import type { Folder } from '../fs/folder.js';
import type { FsPromises } from '../fs/fs-promises.js';
import { readEntry } from './entry-file.js';
import { isStemFile } from './file-names.js';
import { isExpired } from './record.js';

/** Bytes a sweep reads at most (it reads at least one entry, whatever its size). */
const SWEEP_BYTES = 4 * 1024 * 1024;

/**
 * Removes expired alova records from the cache folder a few at a time, so that a long-running
 * process's cache does not grow without bound: a sweep reads at most `batch` entries (and about
 * {@link SWEEP_BYTES}), continuing from where the previous one stopped, and starts at most once every
 * `intervalMs`, when the process writes (`poke()`, called by `set`): no timer, nothing that keeps the
 * process alive. The folder is listed again when a pass over it is done. `batch` 0: never sweeps.
 */
export class CacheSweep {
  #lastStart = Number.NEGATIVE_INFINITY;
  #running: Promise<void> | undefined;
  #stopped = false;
  /** Entry names still to look at in this pass over the folder. */
  #pending: string[] = [];

  constructor(
    private readonly folder: Folder,
    private readonly files: FsPromises,
    private readonly extension: string,
    private readonly intervalMs: number,
    private readonly batch: number,
  ) {}

  /** Starts a sweep unless one runs, one started less than `intervalMs` ago, or the sweep was stopped. */
  poke(): void {
    if (this.#stopped || this.batch === 0 || this.#running || Date.now() - this.#lastStart < this.intervalMs) return;
    this.#lastStart = Date.now();
    this.#running = this.#sweep()
      .catch(() => undefined) // housekeeping: an unreadable folder is tried again at a later sweep
      .finally(() => (this.#running = undefined));
  }

  /** No sweep starts any more; resolves once the one running (if any) stopped, at its next entry. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
  }

  async #sweep(): Promise<void> {
    if (!(await this.folder.exists())) return;
    if (this.#pending.length === 0) this.#pending = await this.#list();
    let bytes = 0;
    for (let looked = 0; looked < this.batch && bytes < SWEEP_BYTES; looked++) {
      const name = this.#pending.pop();
      if (name === undefined || this.#stopped) return;
      const path = join(this.folder.path, name);
      let size: number;
      try {
        const stats = await this.files.lstat(path);
        if (!stats.isFile()) continue; // a link or anything else planted there: never read, never removed
        size = stats.size;
      } catch {
        continue; // removed meanwhile
      }
      if (looked > 0 && bytes + size > SWEEP_BYTES) {
        this.#pending.push(name); // first of the next sweep
        return;
      }
      bytes += size;
      const entry = await readEntry(this.files, path).catch(() => undefined);
      if (this.#stopped) return;
      // A value written over it in this very moment may go with it: a miss, never a wrong value.
      if (entry?.kind === 'value' && isExpired(entry.value)) await this.files.unlink(path).catch(() => undefined);
    }
  }

  /** The entry names of the folder, from a random place on (so that processes sharing it spread their work). */
  async #list(): Promise<string[]> {
    const names = (await this.files.readdir(this.folder.path)).filter((name) => isStemFile(name, this.extension));
    const from = Math.floor(Math.random() * names.length);
    return [...names.slice(from), ...names.slice(0, from)];
  }
}
