import { watch, type FSWatcher } from 'node:fs';
import { basename } from 'node:path';
import { arrivalOf, monotonicNow } from './ticket-name.js';

/** How long a watch stays open after the last ticket of its line left (a process waits again and again). */
const LINGER_MS = 5000;
/** Changes remembered at most; marks from before the forgotten ones no longer hold. */
const MAX_LOG = 1024;

/** A moment of one watch: what {@link LineWatch.unchanged} compares with. */
export interface Mark {
  readonly watch: LineWatch;
  readonly at: number;
}

/**
 * The changes of one line folder, by fs.watch: which ticket files were created, removed or had their
 * mtime set (a `rename` or `change` event names each one) since a mark taken before a reading of the
 * folder. So a waiter that read the
 * line and found a live ticket ahead of its own knows, without reading again, that this ticket is still
 * there: the fair line answers the waiter's next attempts from that (see `FairLine.knownBehind`).
 *
 * The watch is only ever trusted for "nothing changed": an event it cannot place (no name, the folder's
 * own name: the folder removed or moved), an error or a close ends it, and every mark taken before then
 * reads as changed. Events of one process's watches come in the order the filesystem made them (one
 * inotify queue per process on Linux), so a ticket removed before a lock's release is known removed when
 * the release is heard. A folder that cannot be watched (inotify limits, some network filesystems) gives
 * no marks: its waiters read the line at every attempt, as without a watch. The folder is checked to be
 * a real folder by the caller before it is watched; the watch never keeps the process alive.
 */
export class LineWatch {
  #watcher: FSWatcher | undefined;
  /** Counts events and breaks; a mark is the count when it was taken. */
  #count = 0;
  /** Marks from before this count do not hold (the watch was broken, or changes were forgotten). */
  #validFrom = 0;
  /** The watcher was opened at this moment (monotonic clock, µs): every event since has been seen. */
  #openedAt = Number.POSITIVE_INFINITY;
  /**
   * The files known from the events to be there, with their last event (count, time). A file is there
   * after a renewal (a `change`: a removed file is not renewed); a `rename` removes a file that was
   * there, and makes one that was not, when all its events were seen: its arrival stamp, taken before
   * it was made, is later than the opening of the watcher.
   */
  readonly #there = new Map<string, { readonly at: number; readonly t: number }>();
  /** The changes, oldest first, each with the count it got. */
  #log: Array<{ readonly at: number; readonly name: string }> = [];
  /** Tickets of this adapter in the line: the watch closes `lingerMs` after the last one left. */
  #users = 0;
  #lingering: NodeJS.Timeout | undefined;

  /**
   * @param onChange called with the name of each file created, removed or touched in the folder
   * @param onIdle called when the watch closed after its linger, with no ticket left (the adapter forgets it)
   */
  constructor(
    readonly folder: string,
    private readonly onChange: (name: string) => void = () => undefined,
    private readonly onIdle: () => void = () => undefined,
    private readonly lingerMs = LINGER_MS,
  ) {}

  /** True while the folder is watched. */
  get watching(): boolean {
    return this.#watcher !== undefined;
  }

  /** Watches the folder (when not yet) and returns the moment now; undefined when it cannot be watched. */
  mark(): Mark | undefined {
    if (!this.#watcher) {
      try {
        const watcher = watch(this.folder, { persistent: false }, (event, name) => this.#changedName(watcher, event, name));
        const broken = (): void => this.#break(watcher);
        watcher.on('error', broken);
        watcher.on('close', broken);
        this.#watcher = watcher;
        this.#validFrom = ++this.#count;
        this.#openedAt = monotonicNow();
        if (this.#users === 0) this.#linger();
      } catch {
        return undefined;
      }
    }
    return { watch: this, at: this.#count };
  }

  /** True when the folder was watched without a break since `mark`, and file `name` was not created, removed or touched since. */
  unchanged(mark: Mark, name: string): boolean {
    return this.quiet(mark, (changed) => changed === name);
  }

  /** True when the folder was watched without a break since `mark`, and no file whose name passes `test` was created, removed or touched since. */
  quiet(mark: Mark, test: (name: string) => boolean): boolean {
    if (mark.watch !== this || !this.#watcher || mark.at < this.#validFrom) return false;
    for (let i = this.#log.length - 1; i >= 0 && this.#log[i]!.at > mark.at; i--) {
      if (test(this.#log[i]!.name)) return false;
    }
    return true;
  }

  /**
   * The newest file known from the watch alone to be in the folder, among those that pass `test`,
   * made or renewed less than `withinMs` ago; with the mark of that event and when it came (see
   * `#there`). A waiting ticket is made, and renewed while its process lives: such a file was a live
   * ticket then, and is still there.
   */
  present(withinMs: number, test: (name: string) => boolean): { name: string; mark: Mark; seenAt: number } | undefined {
    if (!this.#watcher) return undefined;
    const since = Date.now() - withinMs;
    let found: { name: string; mark: Mark; seenAt: number } | undefined;
    for (const [name, { at, t }] of this.#there) {
      if (t >= since && (!found || name > found.name) && test(name)) found = { name, mark: { watch: this, at }, seenAt: t };
    }
    return found;
  }

  /** A ticket of this adapter joined the line. */
  hold(): void {
    this.#users++;
    clearTimeout(this.#lingering);
    this.#lingering = undefined;
  }

  /** A ticket of this adapter left the line. */
  letGo(): void {
    if (--this.#users <= 0) {
      this.#users = 0;
      this.#linger();
    }
  }

  close(): void {
    clearTimeout(this.#lingering);
    this.#lingering = undefined;
    if (this.#watcher) this.#break(this.#watcher);
  }

  #linger(): void {
    clearTimeout(this.#lingering);
    this.#lingering = setTimeout(() => {
      this.#lingering = undefined;
      if (this.#users > 0) return;
      this.close();
      this.onIdle();
    }, this.lingerMs);
    this.#lingering.unref?.();
  }

  #changedName(watcher: FSWatcher, event: string, name: string | Buffer | null): void {
    if (watcher !== this.#watcher) return;
    const file = name === null ? null : String(name);
    if (file === null || (event === 'rename' && file === basename(this.folder))) return this.#break(watcher);
    // 'rename': a file created or removed; 'change': its mtime set (a renewal, or by anyone else): either
    // may change what a reading found.
    const at = ++this.#count;
    this.#log.push({ at, name: file });
    if (this.#log.length > MAX_LOG) {
      const forgotten = this.#log.splice(0, MAX_LOG / 2);
      this.#validFrom = Math.max(this.#validFrom, forgotten.at(-1)!.at);
    }
    if (event === 'change' || (!this.#there.has(file) && arrivalOf(file) > this.#openedAt)) this.#there.set(file, { at, t: Date.now() });
    else this.#there.delete(file);
    if (this.#there.size > MAX_LOG) this.#there.clear();
    try {
      this.onChange(file);
    } catch (error) {
      process.emitWarning(error as Error);
    }
  }

  #break(watcher: FSWatcher): void {
    if (watcher !== this.#watcher) return;
    this.#watcher = undefined;
    this.#log = [];
    this.#there.clear();
    this.#validFrom = ++this.#count;
    watcher.close();
  }
}
