import { join } from 'node:path';
import type { WaitTicket } from '../../shared/contract.js';
import { isRealFolder } from '../fs/folder.js';
import { codeOf, ignoreMissing, isConfigError } from '../fs/fs-errors.js';
import type { FsPromises } from '../fs/fs-promises.js';
import { unusableFolder } from '../fs/unusable.js';
import { TicketFile, type TicketSettings } from './ticket-file.js';
import { isTicketName, ownerExited, ticketName } from './ticket-name.js';

/** One ticket of this adapter, waiting in the line of one channel. */
interface Place {
  readonly key: string;
  readonly file: TicketFile;
  /** Removes the ticket's abort listener. */
  readonly unlisten: () => void;
}

const keyOf = (lock: string, ticket: WaitTicket): string => `${lock}/${String(ticket.id)}`;

/**
 * The fair lines of an adapter, as files: `<root>/<lock name>/` per channel holds one empty file per
 * waiting ticket, named `<arrival>-<pid>.<pid namespace>-<ticket id>` (see ticket-name.ts), so that
 * the names sort by arrival. A ticket is dead when its process has exited (seen at once, in the same
 * pid namespace), or when its mtime, refreshed every `refreshMs` while it waits, is older than
 * `staleMs` (a process stalled, or in another namespace); whoever finds a dead ticket removes it.
 * Only the first live ticket may try the lock. `lines/` and the channel's folder are checked to be
 * real folders before each use (a link there is a `LockerConfigError`); tickets are judged by their
 * own mtime (lstat), never by what a link points to.
 */
export class FairLine {
  readonly #places = new Map<string, Place>();

  constructor(
    readonly root: string,
    private readonly files: FsPromises,
    private readonly staleMs: number,
    private readonly tickets: TicketSettings,
  ) {}

  /**
   * Joins the line of `lock` at the ticket's first call (and again, at the same place, when its file
   * was removed meanwhile); true when no live ticket is ahead of it. Removes dead tickets ahead.
   */
  async isFirst(lock: string, ticket: WaitTicket): Promise<boolean> {
    const { file } = this.#join(lock, ticket);
    return this.#guard(async () => {
      if (!file.made) await file.create();
      const names = await this.#list(file.folder);
      if (!names.includes(file.name)) await file.create();
      return !(await this.#anyLive(file.folder, names.filter((name) => name < file.name)));
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
    const file = new TicketFile(this.root, join(this.root, lock), ticketName(String(ticket.id)), this.files, this.tickets);
    const onAbort = (): void => void this.#leave(place);
    ticket.signal.addEventListener('abort', onAbort, { once: true });
    const place: Place = { key, file, unlisten: () => ticket.signal.removeEventListener('abort', onAbort) };
    this.#places.set(key, place);
    // A wait that ended meanwhile (its abort event already fired) leaves at once.
    if (ticket.signal.aborted) queueMicrotask(onAbort);
    return place;
  }

  #leave(place: Place): Promise<void> {
    if (!place.file.ended) {
      place.unlisten();
      this.#places.delete(place.key);
    }
    return place.file.end();
  }

  /** The ticket names in `folder`, in arrival order (none when the folder does not exist). */
  async #list(folder: string): Promise<string[]> {
    try {
      if (!(await isRealFolder(this.files, this.root)) || !(await isRealFolder(this.files, folder))) return [];
      return (await this.files.readdir(folder)).filter(isTicketName).sort();
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
          mtime = (await this.files.lstat(path)).mtimeMs;
        } catch (error) {
          ignoreMissing(error);
          continue;
        }
        if (Date.now() - mtime <= this.staleMs) return true;
      }
      // Dead either way: a file that cannot be removed here is skipped by every waiter.
      await this.files.unlink(path).catch(() => undefined);
    }
    return false;
  }

  async #guard<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (isConfigError(error)) {
        throw await unusableFolder(this.files, 'keep its lines of waiters', this.root, error);
      }
      throw error;
    }
  }
}
