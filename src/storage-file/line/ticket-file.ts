import { join } from 'node:path';
import { isRealFolder, makeFolder } from '../fs/folder.js';
import { codeOf, ignoreMissing } from '../fs/fs-errors.js';
import type { FsPromises } from '../fs/fs-promises.js';
import { CREATE_FLAGS } from '../fs/no-follow.js';
import { forgetAtExit, removeAtExit } from './exit-cleanup.js';

/** Times to create a ticket when its line folder keeps vanishing (emptied and removed meanwhile). */
const CREATE_TRIES = 5;

/** How the tickets of an adapter are written: file and folder modes, and how often their mtimes are refreshed. */
export interface TicketSettings {
  readonly refreshMs: number;
  readonly fileMode: number;
  readonly dirMode: number;
}

/**
 * The file of one waiting ticket in its line folder: created (again, at the same place, when someone
 * removed it as dead), its mtime refreshed every `refreshMs` while it waits, removed when the wait
 * ends or the process exits. Its file operations run one after another. It is created only inside
 * real folders (no link on the way) and never through a link; refreshes never follow one (lutimes).
 */
export class TicketFile {
  readonly path: string;
  /** The file was created at least once. */
  made = false;
  /** The wait is over: the file is (being) removed and must not be created again. */
  ended = false;
  #refreshing = false;
  readonly #timer: NodeJS.Timeout;
  /** This ticket's file operations, one after another (never rejects). */
  #busy: Promise<void> = Promise.resolve();

  constructor(
    /** The folder of all lines (`lines/`). */
    readonly root: string,
    /** The channel's line folder, in `root`. */
    readonly folder: string,
    /** The ticket file's name in it. */
    readonly name: string,
    private readonly files: FsPromises,
    private readonly settings: TicketSettings,
  ) {
    this.path = join(folder, name);
    this.#timer = setInterval(() => this.#refresh(), settings.refreshMs);
    this.#timer.unref();
    removeAtExit(this);
  }

  /** Creates the file (and its line folder), after the ticket's earlier file operations. */
  create(): Promise<void> {
    return this.#run(() => this.#create());
  }

  /**
   * The ticket's waiter took the lock: the file goes now, ahead of `end()` (the acquisition may still
   * fail; a reading of the line then makes it again, at its place). Never rejects; a file that could
   * not be removed stays `made`, for `end()` to try again.
   */
  vacate(): Promise<void> {
    if (this.ended) return this.#busy;
    return this.#run(async () => {
      if (!this.made || this.ended) return;
      await this.files.unlink(this.path).catch(ignoreMissing);
      this.made = false;
    }).catch(() => undefined);
  }

  /** The wait is over: stops refreshing and removes the file. Never rejects. */
  end(): Promise<void> {
    if (this.ended) return this.#busy;
    this.ended = true;
    clearInterval(this.#timer);
    // After a creation still on its way, if any. Resolves once the file is gone.
    return this.#run(async () => {
      try {
        if (this.made) await this.files.unlink(this.path).catch(ignoreMissing);
      } finally {
        forgetAtExit(this);
      }
      // Removed only when empty (atomic); a waiter creating its ticket meanwhile makes it again.
      // Not awaited: off the path of a caller that just took the lock.
      this.files.rmdir(this.folder).catch(() => undefined);
    }).catch(() => undefined); // left behind, the file goes stale and is removed by the next waiter
  }

  /** Runs `step` after the ticket's earlier file operations; the caller sees its outcome. */
  #run<T>(step: () => Promise<T>): Promise<T> {
    const result = this.#busy.then(step);
    this.#busy = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** Creates the ticket file (and its line folder, again if it was removed meanwhile as empty). */
  async #create(): Promise<void> {
    for (let tries = 1; ; tries++) {
      if (this.ended) return;
      // No link on the way (a missing folder is made below); the file itself is never opened through one.
      if (await isRealFolder(this.files, this.root)) await isRealFolder(this.files, this.folder);
      try {
        await this.files.writeFile(this.path, '', { flag: CREATE_FLAGS, mode: this.settings.fileMode });
        this.made = true;
        return;
      } catch (error) {
        if (codeOf(error) === 'EEXIST') {
          this.made = true;
          const now = new Date();
          return this.files.lutimes(this.path, now, now);
        }
        if (codeOf(error) !== 'ENOENT' || tries >= CREATE_TRIES) throw error;
      }
      await makeFolder(this.files, this.folder, this.settings.dirMode);
    }
  }

  /** The timer: keeps the ticket's mtime fresh, and puts it back if someone removed it as dead. */
  #refresh(): void {
    if (this.#refreshing || this.ended || !this.made) return;
    this.#refreshing = true;
    this.#run(async () => {
      const now = new Date();
      await this.files.lutimes(this.path, now, now).catch((error: unknown) => (codeOf(error) === 'ENOENT' ? this.#create() : Promise.reject(error)));
    })
      .catch(() => undefined) // a failed renewal is retried at the next tick; at worst the ticket goes stale
      .finally(() => (this.#refreshing = false));
  }
}
