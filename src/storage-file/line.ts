import { mkdir, readdir, rmdir, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { WaitTicket } from '../shared/contract.js';
import { LockerConfigError } from '../shared/errors.js';
import { isConfigError } from './folders.js';
import { forgetAtExit, removeAtExit } from './exit-cleanup.js';
import { fileStem } from './names.js';
import { arrival, isTicketName, owner, ownerExited } from './ticket-name.js';

const codeOf = (error: unknown): unknown => (error as { code?: unknown } | null)?.code;
const ignoreMissing = (error: unknown): void => {
  if (codeOf(error) !== 'ENOENT') throw error;
};

/** Times to create a ticket when its line folder keeps vanishing (emptied and removed meanwhile). */
const CREATE_TRIES = 5;

/** One ticket of this adapter, waiting in the line of one channel. */
interface Place {
  readonly key: string;
  /** The channel's line folder. */
  readonly folder: string;
  /** The ticket file's name in it. */
  readonly name: string;
  readonly path: string;
  /** The file was created at least once. */
  made: boolean;
  /** The wait is over: the file is (being) removed and must not be created again. */
  ended: boolean;
  refreshing: boolean;
  timer: NodeJS.Timeout | undefined;
  /** This ticket's file operations, one after another (never rejects). */
  busy: Promise<void>;
  /** Removes the ticket's abort listener. */
  unlisten: () => void;
}

/**
 * The fair lines of an adapter: `<root>/<lock name>/` per channel holds one empty file per waiting
 * ticket, named `<arrival>-<pid>.<pid namespace>-<ticket id>` (see ticket-name.ts), so that the names
 * sort by arrival. A ticket is dead when its process has exited (seen at once, in the same pid
 * namespace), or when its mtime, refreshed every `refreshMs` while it waits, is older than `staleMs`
 * (a process stalled, or in another namespace); whoever finds a dead ticket removes it. Only the
 * first live ticket may try the lock.
 */
export class WaitLines {
  readonly #places = new Map<string, Place>();

  constructor(
    readonly root: string,
    private readonly staleMs: number,
    private readonly refreshMs: number,
  ) {}

  /**
   * Joins the line of `lock` at the ticket's first call (and again, at the same place, when its file
   * was removed meanwhile); true when no live ticket is ahead of it. Removes dead tickets ahead.
   */
  async isFirst(lock: string, ticket: WaitTicket): Promise<boolean> {
    const place = this.#join(lock, ticket);
    return this.#guard(async () => {
      if (!place.made) await this.#run(place, () => this.#create(place));
      const names = await this.#list(place.folder);
      if (!names.includes(place.name)) await this.#run(place, () => this.#create(place));
      return !(await this.#anyLive(place.folder, names.filter((name) => name < place.name)));
    });
  }

  /** True once the ticket joined the line of `lock` (and has not left it). */
  has(lock: string, ticket: WaitTicket): boolean {
    return this.#places.has(keyOf(lock, ticket));
  }

  /** True when nobody waits in the line of `lock` (for attempts without a ticket). */
  isClear(lock: string): Promise<boolean> {
    const folder = join(this.root, lock);
    return this.#guard(async () => !(await this.#anyLive(folder, await this.#list(folder))));
  }

  /** The ticket took the lock: leaves the line at once. Never rejects. */
  leave(lock: string, ticket: WaitTicket): Promise<void> {
    const place = this.#places.get(keyOf(lock, ticket));
    return place ? this.#leave(place) : Promise.resolve();
  }

  /** Stops every ticket of this adapter and removes their files. Never rejects. */
  async close(): Promise<void> {
    await Promise.all([...this.#places.values()].map((place) => this.#leave(place)));
  }

  #join(lock: string, ticket: WaitTicket): Place {
    const key = keyOf(lock, ticket);
    const known = this.#places.get(key);
    if (known) return known;
    const folder = join(this.root, lock);
    const name = `${arrival()}-${owner()}-${fileStem(String(ticket.id))}`;
    const place: Place = {
      key,
      folder,
      name,
      path: join(folder, name),
      made: false,
      ended: false,
      refreshing: false,
      timer: undefined,
      busy: Promise.resolve(),
      unlisten: () => undefined,
    };
    const onAbort = (): void => void this.#leave(place);
    ticket.signal.addEventListener('abort', onAbort, { once: true });
    place.unlisten = () => ticket.signal.removeEventListener('abort', onAbort);
    place.timer = setInterval(() => this.#refresh(place), this.refreshMs);
    place.timer.unref();
    this.#places.set(key, place);
    removeAtExit(place);
    // A wait that ended meanwhile (its abort event already fired) leaves at once.
    if (ticket.signal.aborted) queueMicrotask(onAbort);
    return place;
  }

  /** Runs `step` after the ticket's earlier file operations; the caller sees its outcome. */
  #run<T>(place: Place, step: () => Promise<T>): Promise<T> {
    const result = place.busy.then(step);
    place.busy = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** Creates the ticket file (and its line folder, again if it was removed meanwhile as empty). */
  async #create(place: Place): Promise<void> {
    for (let tries = 1; ; tries++) {
      if (place.ended) return;
      try {
        await writeFile(place.path, '', { flag: 'wx' });
        place.made = true;
        return;
      } catch (error) {
        if (codeOf(error) === 'EEXIST') {
          place.made = true;
          const now = new Date();
          return utimes(place.path, now, now);
        }
        if (codeOf(error) !== 'ENOENT' || tries >= CREATE_TRIES) throw error;
      }
      await mkdir(place.folder, { recursive: true });
    }
  }

  /** The timer: keeps the ticket's mtime fresh, and puts it back if someone removed it as dead. */
  #refresh(place: Place): void {
    if (place.refreshing || place.ended || !place.made) return;
    place.refreshing = true;
    this.#run(place, async () => {
      const now = new Date();
      await utimes(place.path, now, now).catch((error: unknown) => (codeOf(error) === 'ENOENT' ? this.#create(place) : Promise.reject(error)));
    })
      .catch(() => undefined) // a failed renewal is retried at the next tick; at worst the ticket goes stale
      .finally(() => (place.refreshing = false));
  }

  #leave(place: Place): Promise<void> {
    if (place.ended) return place.busy;
    place.ended = true;
    clearInterval(place.timer);
    place.unlisten();
    this.#places.delete(place.key);
    // After a creation still on its way, if any. Resolves once the file is gone.
    return this.#run(place, async () => {
      try {
        await unlink(place.path).catch(ignoreMissing);
      } finally {
        forgetAtExit(place);
      }
      // Removed only when empty (atomic); a waiter creating its ticket meanwhile makes it again.
      // Not awaited: off the path of a caller that just took the lock.
      rmdir(place.folder).catch(() => undefined);
    }).catch(() => undefined); // left behind, the file goes stale and is removed by the next waiter
  }

  /** The ticket names in `folder`, in arrival order (none when the folder does not exist). */
  async #list(folder: string): Promise<string[]> {
    try {
      return (await readdir(folder)).filter(isTicketName).sort();
    } catch (error) {
      if (codeOf(error) === 'ENOENT') return [];
      throw error;
    }
  }

  /** True when one of `names` (in order) is a live ticket; dead ones met before it are removed. */
  async #anyLive(folder: string, names: string[]): Promise<boolean> {
    for (const name of names) {
      const path = join(folder, name);
      if (!ownerExited(name)) {
        let mtime: number;
        try {
          mtime = (await stat(path)).mtimeMs;
        } catch (error) {
          ignoreMissing(error);
          continue;
        }
        if (Date.now() - mtime <= this.staleMs) return true;
      }
      // Dead either way: a file that cannot be removed here is skipped by every waiter.
      await unlink(path).catch(() => undefined);
    }
    return false;
  }

  async #guard<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (isConfigError(error)) {
        throw new LockerConfigError(`FileStorageAdapter cannot queue waiters in ${this.root}: ${(error as Error).message}`, error);
      }
      throw error;
    }
  }
}

const keyOf = (lock: string, ticket: WaitTicket): string => `${lock}/${String(ticket.id)}`;
