/** The order in which this process's writes of one cache entry land. */

/** One write (a `set` or a `remove`) of one entry, from its call on. */
export interface Turn {
  /**
   * Runs `step`, the write's last step (the rename or unlink that makes it visible), unless a write of
   * the same entry issued later has landed already: resolves true when it ran, false when skipped (the
   * later write holds). Landing steps of one entry run one at a time.
   */
  land(step: () => Promise<void>): Promise<boolean>;
  /** The write is over (landed, skipped or failed). Call it exactly once. */
  done(): void;
}

interface EntryState {
  /** Place of the latest-issued write of the entry that landed. */
  landed: number;
  /** Turns of the entry not done yet. */
  pending: number;
  /** The landing steps, one after another (never rejects). */
  tail: Promise<unknown>;
}

/**
 * Writes of one entry within one process land in the order they were issued, whatever order their
 * temporary files are written in: each call takes a place at once, and its landing step runs only
 * when no later-issued write of the entry has landed. The state of an entry is kept only while one
 * of its writes is in progress.
 */
export class WriteOrder {
  #issued = 0;
  readonly #entries = new Map<string, EntryState>();

  /** Entries with a write in progress. */
  get size(): number {
    return this.#entries.size;
  }

  /** A place for a write of `entry` issued now (call it before anything is awaited). */
  issue(entry: string): Turn {
    const place = ++this.#issued;
    let state = this.#entries.get(entry);
    if (!state) this.#entries.set(entry, (state = { landed: 0, pending: 0, tail: Promise.resolve() }));
    state.pending++;
    const current = state;
    let over = false;
    return {
      land: (step) => {
        const run = current.tail.then(async () => {
          if (current.landed > place) return false;
          await step();
          current.landed = place;
          return true;
        });
        current.tail = run.catch(() => undefined);
        return run;
      },
      done: () => {
        if (over) return;
        over = true;
        if (--current.pending === 0) this.#entries.delete(entry);
      },
    };
  }
}

/**
 * The order of every cache write of this process, shared by its adapters: entries are absolute paths,
 * so two adapters on one directory are ordered too.
 */
export const processWrites = new WriteOrder();
