import type { AtomicLocker, LockHandle, WaitTicket } from '../../shared/contract.js';
import { InvalidChannelError, LockerClosedError, LockerConfigError, LockTimeoutError } from '../../shared/errors.js';
import { lockName } from '../cache/file-names.js';
import { folder, type Folder } from '../fs/folder.js';
import type { FsPromises } from '../fs/fs-promises.js';
import { FairLine } from '../line/fair-line.js';
import type { ReleaseNotifier } from '../notify/release-notifier.js';
import type { FileSettings } from '../options.js';
import type { FileLockHandle } from './lock-handle.js';
import { takeLease } from './take-lease.js';

const check = (channel: unknown): string => {
  if (typeof channel !== 'string' || channel === '') throw new InvalidChannelError(channel);
  return channel;
};

const channelsOf = (resource: string | string[]): string[] => [...new Set([resource].flat().map(check))];

const firstFailure = (results: PromiseSettledResult<unknown>[]): void => {
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
};

/** proper-lockfile's bounds, which the tickets of the fair line follow too. */
const MIN_STALE = 2000;
const MIN_UPDATE = 1000;

/**
 * The file locker: one lock directory per channel in the lock folder, by proper-lockfile. Within one
 * adapter a channel has one holder at a time (also while an attempt is on its way). With `fair`, the
 * waits of all processes line up per channel in arrival order (see {@link FairLine}).
 */
export class FileLocker implements AtomicLocker {
  /** Present only when the adapter's `notify` option is on (`declare`: no property otherwise). */
  declare readonly onRelease?: (channel: string, listener: () => void) => () => void;
  readonly #locks: Folder;
  readonly #fences: Folder;
  readonly #held = new Map<string, FileLockHandle>();
  /** What `lock()` took, by channel: the only locks `unlock()` releases. */
  readonly #locked = new Map<string, LockHandle>();
  readonly #trying = new Set<string>();
  /** The fair line, when the `fair` option is on. */
  readonly #fair: FairLine | undefined;
  #closed = false;

  constructor(
    private readonly settings: FileSettings,
    private readonly files: FsPromises,
    notifier?: ReleaseNotifier,
  ) {
    this.#locks = folder(settings.lockFolder, files, settings.dirMode);
    this.#fences = folder(settings.fenceFolder, files, settings.dirMode);
    if (settings.fair) {
      const stale = Math.max(settings.stale, MIN_STALE);
      const refreshMs = Math.max(Math.min(settings.update, stale / 2), MIN_UPDATE);
      this.#fair = new FairLine(settings.lineFolder, files, stale, { refreshMs, fileMode: settings.fileMode, dirMode: settings.dirMode });
    }
    if (notifier) this.onRelease = (channel, listener) => notifier.subscribe(lockName(check(channel)), listener);
  }

  /**
   * One attempt. With `fair` on, a ticket's first attempt takes the lock only when nobody waits in
   * line (as an attempt without a ticket, alova's `lock()`, always does); when that fails the ticket
   * joins the channel's line, and from then on may take the lock only when no live ticket is ahead of
   * it. A ticket leaves the line when it takes the lock or its signal aborts. A ticket whose file
   * cannot be written (a full disk) still takes a free channel nobody waits for (a ticketless
   * attempt); otherwise its attempt rejects with the error, which `atomize` retries.
   */
  async tryAcquire(channel: string, ticket?: WaitTicket): Promise<LockHandle | null> {
    check(channel);
    if (this.#closed) throw new LockerClosedError('FileStorageAdapter');
    const lines = this.#fair;
    const lock = lockName(channel);
    const ticketed = lines !== undefined && ticket !== undefined && !ticket.signal.aborted;
    const inLine = ticketed && lines.has(lock, ticket);
    if (inLine) {
      let first: boolean;
      try {
        first = await lines.isFirst(lock, ticket);
      } catch (error) {
        if (error instanceof LockerConfigError) throw error;
        return this.#withoutTicket(channel, lock, ticket, error);
      }
      if (!first) return null;
    }
    const handle = await this.#take(channel, lines !== undefined && !inLine);
    if (handle && inLine) await lines.leave(lock, ticket);
    // Not taken at the first attempt: join the line (the uncontended path never writes a ticket).
    if (!handle && ticketed && !inLine && !ticket.signal.aborted) await lines.isFirst(lock, ticket);
    return handle;
  }

  /**
   * The ticket's place in line could not be kept (`error`: its file cannot be written, ...): an attempt
   * without it, which takes the channel only while it is free and nobody waits in its line. Taken, the
   * ticket leaves the line; not taken, the attempt rejects with `error` (the reason it could not wait).
   */
  async #withoutTicket(channel: string, lock: string, ticket: WaitTicket, error: unknown): Promise<LockHandle> {
    const handle = await this.#take(channel, true);
    if (!handle) throw error;
    await this.#fair!.leave(lock, ticket);
    return handle;
  }

  /** Takes the lock of `channel` (when `onlyIfClear`, only while nobody waits in its line). */
  async #take(channel: string, onlyIfClear: boolean): Promise<LockHandle | null> {
    if (this.#closed) throw new LockerClosedError('FileStorageAdapter');
    if (this.#held.has(channel) || this.#trying.has(channel)) return null;
    this.#trying.add(channel);
    try {
      if (onlyIfClear && !(await this.#fair!.isClear(lockName(channel)))) return null;
      const handle = await takeLease(channel, this.#locks, this.settings, this.#fences, this.files, () => this.#held.delete(channel));
      if (handle) this.#held.set(channel, handle);
      if (handle && this.#closed) {
        await handle.release();
        throw new LockerClosedError('FileStorageAdapter');
      }
      return handle;
    } finally {
      this.#trying.delete(channel);
    }
  }

  /** alova's interface: takes every channel or none; rejects at once when one is held. */
  async lock(resource: string | string[]): Promise<void> {
    const started = Date.now();
    const taken: LockHandle[] = [];
    try {
      for (const channel of channelsOf(resource)) {
        const handle = await this.tryAcquire(channel);
        if (!handle) throw new LockTimeoutError(channel, 0, Date.now() - started);
        taken.push(handle);
      }
    } catch (error) {
      await Promise.allSettled(taken.map((handle) => handle.release()));
      throw error;
    }
    for (const handle of taken) this.#locked.set(handle.channel, handle);
  }

  /**
   * alova's interface: releases what `lock()` of this adapter took of `resource`, and nothing else: a
   * lock taken by `tryAcquire` (this package's `atomize`, `withLock`) is its handle's to release, so a
   * stray `unlock()` never ends a request running under it. Nothing taken by `lock()`: resolves. A
   * lock that was lost while held rejects here with its `LockLostError`: alova's own atomize sees no
   * signal, and must not report a success that ran without the lock.
   */
  async unlock(resource: string | string[]): Promise<void> {
    const release = async (channel: string): Promise<void> => {
      const handle = this.#locked.get(channel);
      if (!handle) return;
      this.#locked.delete(channel);
      await handle.release();
      if (handle.signal.aborted) throw handle.signal.reason;
    };
    firstFailure(await Promise.allSettled(channelsOf(resource).map(release)));
  }

  /**
   * Refuses new attempts, removes this adapter's tickets and ends every held lock: its `signal`
   * aborts first (a request still running is aborted, its call rejects with `LockLostError`), then it
   * is released.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#locked.clear();
    const held = [...this.#held.values()];
    for (const handle of held) handle.lose(new LockerClosedError('FileStorageAdapter'));
    await this.#fair?.close();
    firstFailure(await Promise.allSettled(held.map((handle) => handle.release())));
  }
}
