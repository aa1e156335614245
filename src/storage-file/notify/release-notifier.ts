import { lstat, lstatSync, mkdirSync, watch, type FSWatcher } from 'node:fs';
import { basename, join } from 'node:path';

/** How the notifier works: the linger after its last listener left, its folder mode, how often it looks for its folder again. */
export interface NotifierSettings {
  /** Mode of the lock folder when the notifier makes it. @default 0o700 */
  readonly dirMode?: number;
  /** Milliseconds between looks for the lock folder after it was removed or replaced, until it is there again. @default 100 */
  readonly reopenMs?: number;
}

/** A listener, with whether it wants the events of its lock now (see `ReleaseNotifier.subscribe`). */
type Listener = (() => void) & { readonly wants: () => boolean };

/** How long the watcher stays open after its last listener left, ms. */
const LINGER_MS = 5000;
const REOPEN_MS = 100;

/**
 * Release notifications, by fs.watch: ONE watcher on the lock folder, shared by every listener of an
 * adapter, open while a listener remains and `lingerMs` (5 s) after the last one left (so that a
 * process that waits again and again does not open and close a watcher per wait). A release removes
 * the lock's directory, which the watcher sees as a `rename` event of that name; listeners are called
 * when the lock is then found gone (not when it was just made; renewals only change its mtime:
 * `change` events, ignored). When watching fails, listeners are simply never called and waiters poll.
 * An event that no listener of its lock wants (see {@link subscribe}) is left alone, without an lstat,
 * until {@link recheck} looks again.
 *
 * A watcher stays on the folder it opened, even once that folder is removed or renamed (the
 * adapter's directory deleted, say). So when the folder itself goes (its own name in a `rename`
 * event, a watcher error or close), the notifier calls every listener (their locks went with it),
 * then looks for the folder every `reopenMs` until it is there again (made by whoever uses it next),
 * watches the new one and calls every listener once more (a release may have come in between). It
 * never watches through a symbolic link.
 */
export class ReleaseNotifier {
  readonly #listeners = new Map<string, Set<Listener>>();
  /**
   * What the watcher's events say of each listened-to lock: `false` once it was found gone, so that
   * the next event of that name makes it (a new lock: nobody to wake, no lstat needed) and sets
   * `true`; `true` or unknown: the next event may remove it, which an lstat confirms.
   */
  readonly #present = new Map<string, boolean>();
  /** The last lstat asked for each name: only its answer sets `#present` (answers may come out of order). */
  readonly #asked = new Map<string, number>();
  #asks = 0;
  #seen: ((name: string) => void) | undefined;
  /** Locks whose event was left alone (no listener wanted it): see {@link recheck}. */
  readonly #skipped = new Set<string>();
  #watcher: FSWatcher | undefined;
  /** The folder the watcher is on (inode and birth time: a folder made again may get the same inode). */
  #watched: { ino: number; birthtimeMs: number } | undefined;
  #lingering: NodeJS.Timeout | undefined;
  #reopening: NodeJS.Timeout | undefined;
  readonly #dirMode: number;
  readonly #reopenMs: number;

  constructor(
    private readonly folder: string,
    private readonly lingerMs = LINGER_MS,
    settings: NotifierSettings = {},
  ) {
    this.#dirMode = settings.dirMode ?? 0o700;
    this.#reopenMs = settings.reopenMs ?? REOPEN_MS;
  }

  /**
   * `seen` is called with the name of every lock with listeners that the watcher sees made or removed,
   * at once (without the lstat that tells which): the locker's fair handoff tries such a lock
   * straight away for the waiter known to be next.
   */
  onEvent(seen: (name: string) => void): void {
    this.#seen = seen;
  }

  /**
   * Calls `listener` when the entry `name` of the lock folder is removed. `wants`: whether the
   * listener wants the events of `name` now. One that does not is not called at a removal; when no
   * listener of `name` wants an event, it is left alone (no `lstat`). Either way {@link recheck} looks
   * again when asked.
   */
  subscribe(name: string, listener: () => void, wants: () => boolean = () => true): () => void {
    let set = this.#listeners.get(name);
    if (!set) this.#listeners.set(name, (set = new Set()));
    const entry: Listener = Object.assign((): void => listener(), { wants });
    set.add(entry);
    clearTimeout(this.#lingering);
    if (!this.#reopening) this.#open(true);
    return () => {
      set.delete(entry);
      if (set.size === 0 && this.#listeners.get(name) === set) {
        this.#listeners.delete(name);
        this.#present.delete(name);
        this.#asked.delete(name);
        this.#skipped.delete(name);
      }
      if (this.#listeners.size === 0) this.#linger();
    };
  }

  /** True while the fs watcher is open. */
  get watching(): boolean {
    return this.#watcher !== undefined;
  }

  close(): void {
    this.#listeners.clear();
    this.#forget();
    this.#shut();
  }

  #linger(): void {
    clearTimeout(this.#lingering);
    this.#lingering = setTimeout(() => {
      if (this.#listeners.size === 0) this.#shut();
    }, this.lingerMs);
    this.#lingering.unref?.();
  }

  /** Opens the watcher (making the folder first when `make`); true when it is open. */
  #open(make: boolean): boolean {
    if (this.#watcher) return true;
    try {
      if (make) mkdirSync(this.folder, { recursive: true, mode: this.#dirMode });
      const stats = lstatSync(this.folder);
      if (!stats.isDirectory()) return false; // a link or a file: no wake-ups (the locker refuses it anyway)
      const watcher = watch(this.folder, { persistent: false }, (event, name) => this.#changed(watcher, event, name));
      const gone = (): void => this.#lost(watcher);
      watcher.on('error', gone);
      watcher.on('close', gone);
      this.#watcher = watcher;
      this.#watched = { ino: stats.ino, birthtimeMs: stats.birthtimeMs };
      return true;
    } catch {
      this.#watcher = undefined;
      return false;
    }
  }

  /** Events were missed (or may have been): nothing is known of any lock until an lstat says. */
  #forget(): void {
    this.#present.clear();
    this.#asked.clear();
    this.#skipped.clear();
  }

  #shut(): void {
    clearTimeout(this.#lingering);
    clearTimeout(this.#reopening);
    this.#reopening = undefined;
    const watcher = this.#watcher;
    this.#watcher = undefined;
    watcher?.close();
  }

  #changed(watcher: FSWatcher, event: string, name: string | null): void {
    if (watcher !== this.#watcher || event !== 'rename') return;
    // Its own name: the folder itself was removed or moved (no entry of the lock folder has that name).
    if (name === basename(this.folder)) return this.#lost(watcher);
    if (!name) {
      this.#forget();
      this.#check(watcher);
      return this.#call([...this.#listeners.values()]);
    }
    if (!this.#listeners.has(name)) return;
    try {
      this.#seen?.(name);
    } catch (error) {
      process.emitWarning(error as Error);
    }
    // Events of one name come in order and alternate: after the removal, the lock is made again.
    if (this.#present.get(name) === false) return void this.#present.set(name, true);
    this.#present.delete(name);
    if (![...this.#listeners.get(name)!].some((entry) => entry.wants())) {
      // Nothing is known of the lock until the next lstat; an older lstat's answer must not say so.
      this.#asked.delete(name);
      this.#skipped.add(name);
      return;
    }
    this.#skipped.delete(name);
    this.#ask(name);
  }

  /**
   * A listener of `name` wants its events again (its ticket's turn came): when an event of `name` was
   * left alone, or a removal was kept from a listener, since the last `lstat`, looks now, and calls
   * `onEvent`'s callback, then the listeners that want it, if the lock is gone.
   */
  recheck(name: string): void {
    if (!this.#watcher || !this.#skipped.delete(name) || !this.#listeners.has(name)) return;
    this.#ask(name, () => this.#seen?.(name));
  }

  /** One lstat of lock `name`: when it is gone, `gone`, then the listeners that want it now. */
  #ask(name: string, gone?: () => void): void {
    const ask = ++this.#asks;
    this.#asked.set(name, ask);
    lstat(join(this.folder, name), (error) => {
      if (!this.#listeners.has(name)) return;
      if (this.#asked.get(name) === ask) {
        this.#asked.delete(name);
        this.#present.set(name, !error);
      }
      if (!error) return;
      try {
        gone?.();
      } catch (failure) {
        process.emitWarning(failure as Error);
      }
      const set = this.#listeners.get(name)!;
      // A listener left out now hears of this release at a recheck, when its turn comes.
      if ([...set].some((entry) => !entry.wants())) this.#skipped.add(name);
      this.#call([set], true);
    });
  }

  /** Is the watched folder still the one at its path? (For events that name no file.) */
  #check(watcher: FSWatcher): void {
    lstat(this.folder, (error, stats) => {
      const same = !error && stats.isDirectory() && stats.ino === this.#watched?.ino && stats.birthtimeMs === this.#watched.birthtimeMs;
      if (!same) this.#lost(watcher);
    });
  }

  /** The watcher's folder is gone (removed, renamed, replaced) or the watcher failed: wake everyone, watch again once it is back. */
  #lost(watcher: FSWatcher): void {
    if (watcher !== this.#watcher) return;
    this.#watcher = undefined;
    this.#forget();
    watcher.close();
    this.#call([...this.#listeners.values()]);
    this.#reopen();
  }

  #reopen(): void {
    clearTimeout(this.#reopening);
    this.#reopening = undefined;
    if (this.#listeners.size === 0) return;
    this.#reopening = setTimeout(() => {
      this.#reopening = undefined;
      if (this.#watcher || this.#listeners.size === 0) return;
      // Not made here: the folder may be in the middle of being removed with its directory.
      if (this.#open(false)) this.#call([...this.#listeners.values()]);
      else this.#reopen();
    }, this.#reopenMs);
    this.#reopening.unref?.();
  }

  /** Calls the listeners of `sets` (`wanting`: only those that want their lock's events now). */
  #call(sets: Array<Set<Listener> | undefined>, wanting = false): void {
    for (const set of sets) {
      for (const listener of [...(set ?? [])]) {
        if (wanting && !listener.wants()) continue;
        try {
          listener();
        } catch (error) {
          process.emitWarning(error as Error);
        }
      }
    }
  }
}
