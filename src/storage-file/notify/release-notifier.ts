import { mkdirSync, stat, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';

/** How long the watcher stays open after its last listener left, ms. */
const LINGER_MS = 5000;

/**
 * Release notifications, by fs.watch: ONE watcher on the lock folder, shared by every listener of an
 * adapter, open while a listener remains and `lingerMs` (5 s) after the last one left (so that a
 * process that waits again and again does not open and close a watcher per wait). A release removes
 * the lock's directory, which the watcher sees as a `rename` event of that name; listeners are called
 * when the lock is then found gone (not when it was just made; renewals only change its mtime:
 * `change` events, ignored). When watching fails, listeners are simply never called and waiters poll.
 */
export class ReleaseNotifier {
  readonly #listeners = new Map<string, Set<() => void>>();
  #watcher: FSWatcher | undefined;
  #lingering: NodeJS.Timeout | undefined;

  constructor(
    private readonly folder: string,
    private readonly lingerMs = LINGER_MS,
  ) {}

  /** Calls `listener` when the entry `name` of the lock folder is removed. */
  subscribe(name: string, listener: () => void): () => void {
    let set = this.#listeners.get(name);
    if (!set) this.#listeners.set(name, (set = new Set()));
    const entry = (): void => listener();
    set.add(entry);
    this.#open();
    return () => {
      set.delete(entry);
      if (set.size === 0 && this.#listeners.get(name) === set) this.#listeners.delete(name);
      if (this.#listeners.size === 0) this.#linger();
    };
  }

  /** True while the fs watcher is open. */
  get watching(): boolean {
    return this.#watcher !== undefined;
  }

  close(): void {
    this.#listeners.clear();
    this.#shut();
  }

  #linger(): void {
    clearTimeout(this.#lingering);
    this.#lingering = setTimeout(() => {
      if (this.#listeners.size === 0) this.#shut();
    }, this.lingerMs);
    this.#lingering.unref?.();
  }

  #open(): void {
    clearTimeout(this.#lingering);
    if (this.#watcher) return;
    try {
      mkdirSync(this.folder, { recursive: true });
      this.#watcher = watch(this.folder, { persistent: false }, (event, name) => this.#changed(event, name));
      this.#watcher.on('error', () => this.#shut());
    } catch {
      this.#watcher = undefined;
    }
  }

  #shut(): void {
    clearTimeout(this.#lingering);
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  #changed(event: string, name: string | null): void {
    if (event !== 'rename') return;
    if (!name) return this.#call([...this.#listeners.values()]);
    if (!this.#listeners.has(name)) return;
    stat(join(this.folder, name), (error) => {
      if (error) this.#call([this.#listeners.get(name)]);
    });
  }

  #call(sets: Array<Set<() => void> | undefined>): void {
    for (const set of sets) {
      for (const listener of [...(set ?? [])]) {
        try {
          listener();
        } catch (error) {
          process.emitWarning(error as Error);
        }
      }
    }
  }
}
