import { join } from 'node:path';
import type { WaitTicket } from '../../shared/contract.js';
import { isRealFolder } from '../fs/folder.js';
import { codeOf, ignoreMissing, isConfigError } from '../fs/fs-errors.js';
import type { FsPromises } from '../fs/fs-promises.js';
import { unusableFolder } from '../fs/unusable.js';
import { LineWatch, type Mark } from './line-watch.js';
import { TicketFile, type TicketSettings } from './ticket-file.js';
import { isTicketName, ownerExited, ticketName } from './ticket-name.js';

/** A live ticket found ahead of a waiting ticket, and the watch mark taken before the line was read. */
export interface Ahead {
  /** Its file name in the line folder. */
  readonly name: string;
  /** Its mtime when it was found. */
  readonly mtimeMs: number;
  /** Taken before the line was read: changes of the folder after it are known (see {@link LineWatch}). */
  readonly mark: Mark;
  /** When the line was read (Date.now()). */
  readonly readAt: number;
}

/** One ticket of this adapter, waiting in the line of one channel. */
interface Place {
  readonly key: string;
  /** The lock name of the line. */
  readonly lock: string;
  readonly ticket: WaitTicket;
  readonly file: TicketFile;
  readonly watch: LineWatch;
  /** Removes the ticket's abort listener. */
  readonly unlisten: () => void;
  /** The nearest live ticket ahead of this one at the last reading of the line, if any (and watched). */
  ahead?: Ahead;
  /** The last reading of the line found no live ticket ahead (and the folder was watched from before it). */
  first?: { readonly mark: Mark; readonly readAt: number };
  /** A reading of the line for this ticket under way. */
  reading?: Promise<boolean>;
}

/** What the line is known to say of a ticket without reading it (see {@link FairLine.known}). */
export type Known = 'behind' | 'first' | undefined;

/** A reading of one line folder: its ticket names in arrival order, and the watch mark taken just before. */
interface Reading {
  readonly names: string[];
  readonly mark?: Mark;
}

const keyOf = (lock: string, ticket: WaitTicket): string => `${lock}/${String(ticket.id)}`;

/** How long an answer from a watched line holds when a ticket gives no `interval` (atomize's default). */
const DEFAULT_INTERVAL_MS = 100;

/**
 * The fair lines of an adapter, as files: `<root>/<lock name>/` per channel holds one empty file per
 * waiting ticket, named `<arrival>-<pid>.<pid namespace>-<ticket id>` (see ticket-name.ts), so that
 * the names sort by arrival. A ticket is dead when its process has exited (seen at once, in the same
 * pid namespace), or when its mtime, refreshed every `refreshMs` while it waits, is older than
 * `staleMs` (a process stalled, or in another namespace); whoever finds a dead ticket removes it.
 * Only the first live ticket may try the lock. `lines/` and the channel's folder are checked to be
 * real folders before each use (a link there is a `LockerConfigError`); tickets are judged by their
 * own mtime (lstat), never by what a link points to.
 *
 * A reading of a line looks at the tickets ahead nearest first, and stops at the first live one. When
 * the line folder is watched (see {@link LineWatch}) and that ticket is neither removed nor created
 * again since, its process has not exited and its mtime found is not yet `staleMs` old, the waiter is
 * still behind it: its next attempts within its `interval` are answered without touching the disk (so
 * that a release wakes every waiter, but only the next one reads the line). An attempt after that
 * reads the line again, so that dead and stalled tickets are found as before.
 */
export class FairLine {
  readonly #places = new Map<string, Place>();
  readonly #watches = new Map<string, LineWatch>();
  /**
   * Called with the lock name when a reading made in the background (the ticket ahead went) finds a
   * ticket of this adapter first: its turn may have come while it was known to be behind.
   */
  onTurn: (lock: string) => void = () => undefined;

  constructor(
    readonly root: string,
    private readonly files: FsPromises,
    private readonly staleMs: number,
    private readonly tickets: TicketSettings,
  ) {}

  /**
   * What the line says of the ticket, known without reading it again (after a reading under way, if
   * any, has settled):
   * - `'behind'`: the last reading, less than the ticket's `interval` ago, found a live ticket ahead of
   *   it, which was neither removed nor created again since (the folder's watch says), whose process
   *   has not exited and whose mtime then is not yet `staleMs` old;
   * - `'first'`: the last reading, less than `interval` ago, found no live ticket ahead, removed none,
   *   and no ticket that sorts ahead of it was created or removed since;
   * - `undefined`: read the line (also when the ticket's file could not be made).
   * (Whether the ticket's own file is still there does not matter: without it, it is not first either
   * way, and the next reading or its renewal puts it back at its place.)
   */
  async known(lock: string, ticket: WaitTicket): Promise<Known> {
    const place = this.#places.get(keyOf(lock, ticket));
    if (!place) return undefined;
    if (place.reading) await place.reading.catch(() => undefined);
    return this.#known(place);
  }

  /** The ticket of this adapter in the line of `lock` known (as in {@link known}) to be first now, if any. */
  firstOf(lock: string): WaitTicket | undefined {
    const folder = join(this.root, lock);
    for (const place of this.#places.values()) {
      if (place.file.folder === folder && !place.reading && this.#known(place) === 'first') return place.ticket;
    }
    return undefined;
  }

  /**
   * True when the ticket is in the line of `lock` and known (see {@link known}) to be behind a live
   * ticket: a release of the lock is not for it. (A reading under way has cleared what was known.)
   */
  isBehind(lock: string, ticket: WaitTicket): boolean {
    const place = this.#places.get(keyOf(lock, ticket));
    return place !== undefined && this.#known(place) === 'behind';
  }

  #known(place: Place): Known {
    // A ticket whose file could not be made is not in line: its attempt tries to make it (and reports why not).
    if (!place.file.made || place.file.ended) return undefined;
    const { ahead, first, watch, file, ticket } = place;
    const now = Date.now();
    const interval = ticket.interval ?? DEFAULT_INTERVAL_MS;
    if (ahead) {
      if (now - ahead.readAt < interval && now - ahead.mtimeMs <= this.staleMs && watch.unchanged(ahead.mark, ahead.name) && !ownerExited(ahead.name)) return 'behind';
      place.ahead = undefined;
    }
    if (first) {
      if (now - first.readAt < interval && watch.quiet(first.mark, (name) => name < file.name)) return 'first';
      place.first = undefined;
    }
    return undefined;
  }

  /**
   * Reads the line of `lock` (joining it at the ticket's first call, and again, at the same place, when
   * its file was removed meanwhile); true when no live ticket is ahead of it. Removes the dead tickets
   * it meets ahead. `rootChecked`: the check of `lines/` for this attempt, when already started. A
   * reading already under way for the ticket is shared.
   */
  isFirst(lock: string, ticket: WaitTicket, rootChecked?: Promise<boolean>): Promise<boolean> {
    return this.#readFor(this.#join(lock, ticket), rootChecked);
  }

  #readFor(place: Place, rootChecked?: Promise<boolean>, background = false): Promise<boolean> {
    if (place.reading) return place.reading;
    const { file } = place;
    place.ahead = place.first = undefined;
    const reading = this.#guard(async () => {
      if (!file.made) await file.create();
      const { names, mark } = await this.#read(file.folder, place.watch, rootChecked);
      if (!names.includes(file.name)) await file.create();
      const { live, removed } = await this.#nearestLive(file.folder, names.filter((name) => name < file.name));
      if (mark && !file.ended) {
        const readAt = Date.now();
        if (live) place.ahead = { ...live, mark, readAt };
        else if (!removed) place.first = { mark, readAt }; // removals of its own would read as changes ahead
      }
      return !live;
    });
    place.reading = reading;
    if (background) {
      reading.then(
        (first) => {
          if (first && !place.file.ended) this.onTurn(place.lock);
        },
        () => undefined,
      );
    }
    const done = (): void => {
      if (place.reading !== reading) return;
      place.reading = undefined;
      // What it found changed while it read (see #changed): read again, so that the next attempt knows.
      const { ahead, first } = place;
      const changed = ahead ? !place.watch.unchanged(ahead.mark, ahead.name) : first ? !place.watch.quiet(first.mark, (name) => name < file.name) : false;
      if (changed && !file.ended) this.#readFor(place, undefined, true).catch(() => undefined);
    };
    reading.then(done, done);
    return reading;
  }

  /**
   * A file of the line in `folder` was created or removed. A ticket of this adapter that was behind it
   * (its nearest live ticket ahead) reads the line at once, in the background: when it is now first,
   * its next attempt (the release's wake-up, usually) goes straight to the lock.
   */
  #changed(folder: string, name: string): void {
    for (const place of this.#places.values()) {
      if (place.file.folder !== folder || place.ahead?.name !== name || place.file.ended) continue;
      place.ahead = undefined;
      if (!place.reading) this.#readFor(place, undefined, true).catch(() => undefined); // an attempt reads again and reports it
    }
  }

  /**
   * Joins the line of `lock` after an attempt found the channel taken: writes the ticket's file and
   * nothing else (its next attempt reads the line). `seen`: the live ticket that attempt found in the
   * line (see {@link isClear}), which is ahead of this new ticket when its name sorts first.
   */
  async enter(lock: string, ticket: WaitTicket, seen?: Ahead): Promise<void> {
    const place = this.#join(lock, ticket);
    // Known before the file is made, so that a change of that ticket meanwhile is seen (see #changed).
    if (seen && seen.name < place.file.name && seen.mark.watch === place.watch && !place.reading) place.ahead = seen;
    await this.#guard(() => place.file.create());
  }

  /** True once the ticket joined the line of `lock` (and has not left it). */
  has(lock: string, ticket: WaitTicket): boolean {
    return this.#places.has(keyOf(lock, ticket));
  }

  /**
   * True when nobody waits in the line of `lock` (for attempts without a ticket, and a ticket's first).
   * Otherwise `seen.ahead` gets the newest live ticket found, for a ticket about to join (see {@link enter}).
   */
  isClear(lock: string, rootChecked?: Promise<boolean>, seen?: { ahead?: Ahead }): Promise<boolean> {
    const folder = join(this.root, lock);
    return this.#guard(async () => {
      const { names, mark } = await this.#read(folder, seen ? this.#watchOf(folder) : undefined, rootChecked);
      const { live } = await this.#nearestLive(folder, names);
      if (live && mark && seen) seen.ahead = { ...live, mark, readAt: Date.now() };
      return !live;
    });
  }

  /**
   * A live ticket in the line of `lock`, known without reading the line: the folder's watch knows it
   * is there (see `LineWatch.present`), made or renewed less than `staleMs` ago, and its process has
   * not exited. So the line is not clear, and a ticket that joins now is behind it. Undefined: read
   * the line.
   */
  knownBusy(lock: string): Ahead | undefined {
    const watch = this.#watches.get(join(this.root, lock));
    const seen = watch?.present(this.staleMs, (name) => isTicketName(name) && !ownerExited(name));
    return seen && { name: seen.name, mtimeMs: seen.seenAt, mark: seen.mark, readAt: Date.now() };
  }

  /**
   * The ticket's attempt made the lock directory: its file goes at once (see `TicketFile.vacate`), so
   * that the next waiter learns it together with the lock's making. Never rejects.
   */
  vacate(lock: string, ticket: WaitTicket): Promise<void> {
    const place = this.#places.get(keyOf(lock, ticket));
    return place ? place.file.vacate() : Promise.resolve();
  }

  /**
   * The ticket's attempt failed after it made the lock directory: its file is made again, at its place
   * (unless its wait ended), and the line is read again at its next attempt. Never rejects: a file
   * that cannot be made now is made by that reading.
   */
  async restore(lock: string, ticket: WaitTicket): Promise<void> {
    const place = this.#places.get(keyOf(lock, ticket));
    if (!place) return;
    place.ahead = place.first = undefined;
    await place.file.create().catch(() => undefined);
  }

  /** The ticket took the lock: leaves the line at once. Never rejects. */
  leave(lock: string, ticket: WaitTicket): Promise<void> {
    const place = this.#places.get(keyOf(lock, ticket));
    return place ? this.#leave(place) : Promise.resolve();
  }

  /** Stops every ticket of this adapter and removes their files. Never rejects. */
  async close(): Promise<void> {
    await Promise.all([...this.#places.values()].map((place) => this.#leave(place)));
    for (const watch of this.#watches.values()) watch.close();
    this.#watches.clear();
  }

  #watchOf(folder: string): LineWatch {
    let watch = this.#watches.get(folder);
    if (!watch) {
      const made = new LineWatch(
        folder,
        (name) => this.#changed(folder, name),
        () => {
          if (this.#watches.get(folder) === made) this.#watches.delete(folder);
        },
      );
      this.#watches.set(folder, (watch = made));
    }
    return watch;
  }

  #join(lock: string, ticket: WaitTicket): Place {
    const key = keyOf(lock, ticket);
    const known = this.#places.get(key);
    if (known) return known;
    const folder = join(this.root, lock);
    const file = new TicketFile(this.root, folder, ticketName(String(ticket.id)), this.files, this.tickets);
    const watch = this.#watchOf(folder);
    watch.hold();
    const onAbort = (): void => void this.#leave(place);
    ticket.signal.addEventListener('abort', onAbort, { once: true });
    const place: Place = { key, lock, ticket, file, watch, unlisten: () => ticket.signal.removeEventListener('abort', onAbort) };
    this.#places.set(key, place);
    // A wait that ended meanwhile (its abort event already fired) leaves at once.
    if (ticket.signal.aborted) queueMicrotask(onAbort);
    return place;
  }

  #leave(place: Place): Promise<void> {
    if (!place.file.ended) {
      place.unlisten();
      place.ahead = place.first = undefined;
      place.watch.letGo();
      this.#places.delete(place.key);
    }
    return place.file.end();
  }

  /**
   * The ticket names in `folder`, in arrival order (none when the folder does not exist), after
   * checking that `lines/` and the folder are real folders. With `watch`, the folder is watched from
   * before the reading, and `mark` is that moment.
   */
  async #read(folder: string, watch?: LineWatch, rootChecked?: Promise<boolean>): Promise<Reading> {
    try {
      if (!(await (rootChecked ?? isRealFolder(this.files, this.root))) || !(await isRealFolder(this.files, folder))) return { names: [] };
      const mark = watch?.mark();
      return { names: (await this.files.readdir(folder)).filter(isTicketName).sort(), mark };
    } catch (error) {
      if (codeOf(error) === 'ENOENT') return { names: [] };
      throw error;
    }
  }

  /**
   * The live ticket nearest the end of `names` (in arrival order), with the mtime it was found with;
   * dead ones met before it are removed (`removed`: some were). `live` undefined: none is live.
   */
  async #nearestLive(folder: string, names: string[]): Promise<{ live?: { name: string; mtimeMs: number }; removed: boolean }> {
    let removed = false;
    for (let i = names.length - 1; i >= 0; i--) {
      const name = names[i]!;
      const path = join(folder, name);
      if (!ownerExited(name)) {
        let mtimeMs: number;
        try {
          mtimeMs = (await this.files.lstat(path)).mtimeMs;
        } catch (error) {
          ignoreMissing(error);
          continue;
        }
        if (Date.now() - mtimeMs <= this.staleMs) return { live: { name, mtimeMs }, removed };
      }
      // Dead either way: a file that cannot be removed here is skipped by every waiter.
      removed = true;
      await this.files.unlink(path).catch(() => undefined);
    }
    return { removed };
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
