import type { AtomicLocker, LockHandle, ReleaseEvent, WaitTicket } from '../../shared/contract.js';
import { InvalidChannelError, LockerClosedError, LockerConfigError, LockTimeoutError } from '../../shared/errors.js';
import { lockName } from '../cache/file-names.js';
import { folder, isRealFolder, type Folder } from '../fs/folder.js';
import type { FsPromises } from '../fs/fs-promises.js';
import { FairLine, type Ahead } from '../line/fair-line.js';
import type { ReleaseNotifier } from '../notify/release-notifier.js';
import type { FileSettings } from '../options.js';
import type { FileLockHandle } from './lock-handle.js';
import { takeLease, type LeaseHooks } from './take-lease.js';

const check = (channel: unknown): string => {
  if (typeof channel !== 'string' || channel === '') throw new InvalidChannelError(channel);
  return channel;
};

const channelsOf = (resource: string | string[]): string[] => [...new Set([resource].flat().map(check))];

const firstFailure = (results: PromiseSettledResult<unknown>[]): void => {
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
};

/** A lock taken for a ticket at a release, until its waiter's next attempt claims it. */
interface Grant {
  readonly taking: Promise<FileLockHandle | null>;
  claimed: boolean;
}

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
  declare readonly onRelease?: (channel: string, listener: (event?: ReleaseEvent) => void, ticket?: WaitTicket) => () => void;
  readonly #locks: Folder;
  readonly #fences: Folder;
  readonly #held = new Map<string, FileLockHandle>();
  /** What `lock()` took, by channel: the only locks `unlock()` releases. */
  readonly #locked = new Map<string, LockHandle>();
  readonly #trying = new Set<string>();
  /** The channels with release listeners, by lock name, and those listeners. */
  readonly #channels = new Map<string, { channel: string; listeners: Set<(event?: ReleaseEvent) => void> }>();
  /** Locks taken at a release for the ticket first in line, until its waiter's next attempt (see #handOff). */
  readonly #grants = new Map<WaitTicket, Grant>();
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
    if (notifier) {
      this.onRelease = (channel, listener, ticket) => this.#subscribe(notifier, channel, listener, ticket);
      if (this.#fair) {
        notifier.onEvent((lock) => this.#handOff(lock));
        this.#fair.onTurn = (lock) => notifier.recheck(lock);
      }
    }
  }

  /**
   * One attempt. With `fair` on, a ticket's first attempt takes the lock only when nobody waits in
   * line (as an attempt without a ticket, alova's `lock()`, always does); when that fails the ticket
   * joins the channel's line, and from then on may take the lock only when no live ticket is ahead of
   * it. A ticket leaves the line when it takes the lock (in the background: the handle's release waits
   * for it) or its signal aborts. A ticket whose file cannot be written (a full disk) still takes a
   * free channel nobody waits for (a ticketless attempt); otherwise its attempt rejects with the error,
   * which `atomize` retries.
   *
   * The folders an attempt may use are checked all at once at its start (the lock folder and `lines/`;
   * the fence folder alongside the lock itself), each still before its use. An attempt of a ticket
   * known to be behind a live ticket (see `FairLine.known`) touches nothing; one known to be first
   * goes straight to the lock, without reading the line.
   */
  async tryAcquire(channel: string, ticket?: WaitTicket): Promise<LockHandle | null> {
    check(channel);
    if (this.#closed) throw new LockerClosedError('FileStorageAdapter');
    const lines = this.#fair;
    const lock = lockName(channel);
    const ticketed = lines !== undefined && ticket !== undefined && !ticket.signal.aborted;
    // Handed to this ticket at a release (see #handOff): the lock, or nothing after all.
    const granted = ticketed ? this.#grants.get(ticket) : undefined;
    if (ticketed && granted) {
      const handle = await granted.taking;
      if (this.#grants.get(ticket) === granted) this.#grants.delete(ticket);
      if (handle && !granted.claimed && !ticket.signal.aborted) {
        granted.claimed = true;
        return handle;
      }
    }
    const inLine = ticketed && lines.has(lock, ticket);
    if (inLine) {
      const known = await lines.known(lock, ticket);
      if (known === 'behind') return null;
      const checks = this.#checks(known === undefined);
      let first = known === 'first';
      try {
        first ||= await lines.isFirst(lock, ticket, checks.lines);
      } catch (error) {
        if (error instanceof LockerConfigError) throw error;
        return this.#withoutTicket(channel, lock, ticket, error);
      }
      if (!first) return null;
      return this.#takeFirst(channel, lock, ticket, checks);
    }
    // Someone is known to wait in line (see `FairLine.knownBusy`): no need to read it to know the
    // channel is not for this attempt.
    const busy = lines?.knownBusy(lock);
    if (busy) {
      if (ticketed && !ticket.signal.aborted) await lines!.enter(lock, ticket, busy);
      return null;
    }
    const seen: { ahead?: Ahead } = {};
    const handle = await this.#take(channel, lines !== undefined, this.#checks(), ticketed ? seen : undefined);
    // Not taken at the first attempt: join the line (the uncontended path never writes a ticket).
    if (!handle && ticketed && !ticket.signal.aborted) await lines.enter(lock, ticket, seen.ahead);
    return handle;
  }

  /**
   * Takes the lock for a ticket first in line: its file leaves the line as soon as the lock directory
   * is made, the ticket leaves its place once the lock is taken (the handle's release waits for it).
   * When the attempt fails after all, the ticket's place is read again at its next attempt (which
   * makes its file again, at its place).
   */
  async #takeFirst(channel: string, lock: string, ticket: WaitTicket, checks: { locks: Promise<boolean>; lines?: Promise<boolean> }): Promise<FileLockHandle | null> {
    const lines = this.#fair!;
    let vacating: Promise<void> | undefined;
    // Taken, then given back (its token could not be made): back in line, at its place, before others may take it.
    const restore = async (): Promise<void> => {
      if (!vacating) return;
      await vacating;
      vacating = undefined;
      await lines.restore(lock, ticket);
    };
    const hooks: LeaseHooks = { made: () => void (vacating = lines.vacate(lock, ticket)), givingBack: restore };
    let handle: FileLockHandle | null;
    try {
      handle = await this.#take(channel, false, checks, undefined, hooks);
    } catch (error) {
      await restore();
      throw error;
    }
    if (handle) handle.after(lines.leave(lock, ticket));
    else await restore();
    return handle;
  }

  /**
   * The notifier saw the lock `lock` made or removed. When a ticket of this adapter is known to be
   * first in its line (see `FairLine.firstOf`), the lock is taken for it at once, without waiting for
   * the removal to be confirmed and the ticket's waiter to try: the handle waits for that waiter's
   * next attempt, which the listeners of the channel are told of (a `ReleaseEvent` with `grantedTo`).
   * A wait that ends meanwhile releases it at once. (When the event was the lock being made, the
   * attempt finds it taken and nothing happens.)
   */
  #handOff(lock: string): void {
    const channel = this.#channels.get(lock)?.channel;
    const ticket = channel === undefined || this.#closed ? undefined : this.#fair?.firstOf(lock);
    if (!ticket || this.#grants.has(ticket) || ticket.signal.aborted) return;
    const grant: Grant = { taking: this.#takeFirst(channel!, lock, ticket, this.#checks(false)).catch(() => null), claimed: false };
    this.#grants.set(ticket, grant);
    void grant.taking.then((handle) => {
      if (!handle) {
        if (this.#grants.get(ticket) === grant) this.#grants.delete(ticket);
        return;
      }
      const unclaimed = (): void => {
        if (grant.claimed) return;
        if (this.#grants.get(ticket) === grant) this.#grants.delete(ticket);
        handle.release().catch(() => undefined);
      };
      if (ticket.signal.aborted) return unclaimed();
      ticket.signal.addEventListener('abort', unclaimed, { once: true });
      for (const listener of [...(this.#channels.get(lock)?.listeners ?? [])]) {
        try {
          listener({ grantedTo: String(ticket.id) });
        } catch (error) {
          process.emitWarning(error as Error);
        }
      }
    });
  }

  /**
   * Subscribes `listener` to the releases of `channel` (the notifier's), and to the handoffs of this
   * locker. With the wait's `ticket` (fair line), a release is left alone while the ticket is known to
   * be behind a live ticket (nothing to try: its attempt would get `null` from memory); when a reading
   * then finds it first, a release left alone meanwhile is looked at again (`FairLine.onTurn`).
   */
  #subscribe(notifier: ReleaseNotifier, channel: string, listener: (event?: ReleaseEvent) => void, ticket?: WaitTicket): () => void {
    const lock = lockName(check(channel));
    let entry = this.#channels.get(lock);
    if (!entry) this.#channels.set(lock, (entry = { channel, listeners: new Set() }));
    const call = (event?: ReleaseEvent): void => listener(event);
    entry.listeners.add(call);
    const lines = this.#fair;
    const wants = lines && ticket ? () => !lines.isBehind(lock, ticket) : undefined;
    const unsubscribe = notifier.subscribe(lock, () => call(), wants);
    const mine = entry;
    return () => {
      unsubscribe();
      mine.listeners.delete(call);
      if (mine.listeners.size === 0 && this.#channels.get(lock) === mine) this.#channels.delete(lock);
    };
  }

  /** The checks of the lock folder and (when the attempt reads the line) `lines/` for one attempt, started at once. */
  #checks(readsLine = true): { locks: Promise<boolean>; lines?: Promise<boolean> } {
    const lines = this.#fair && readsLine ? isRealFolder(this.files, this.#fair.root) : undefined;
    lines?.catch(() => undefined); // surfaces where it is used
    return { locks: this.#locks.check(), lines };
  }

  /**
   * The ticket's place in line could not be kept (`error`: its file cannot be written, ...): an attempt
   * without it, which takes the channel only while it is free and nobody waits in its line. Taken, the
   * ticket leaves the line; not taken, the attempt rejects with `error` (the reason it could not wait).
   */
  async #withoutTicket(channel: string, lock: string, ticket: WaitTicket, error: unknown): Promise<LockHandle> {
    const handle = await this.#take(channel, true, this.#checks());
    if (!handle) throw error;
    handle.after(this.#fair!.leave(lock, ticket));
    return handle;
  }

  /**
   * Takes the lock of `channel` (when `onlyIfClear`, only while nobody waits in its line; `seen` then
   * gets the live ticket found there). `checks`: the folder checks started for this attempt.
   */
  async #take(
    channel: string,
    onlyIfClear: boolean,
    checks: { locks: Promise<boolean>; lines?: Promise<boolean> },
    seen?: { ahead?: Ahead },
    hooks?: LeaseHooks,
  ): Promise<FileLockHandle | null> {
    if (this.#closed) throw new LockerClosedError('FileStorageAdapter');
    if (this.#held.has(channel) || this.#trying.has(channel)) return null;
    this.#trying.add(channel);
    try {
      if (onlyIfClear && !(await this.#fair!.isClear(lockName(channel), checks.lines, seen))) return null;
      const handle = await takeLease(channel, this.#locks, this.settings, this.#fences, this.files, () => this.#held.delete(channel), checks.locks, hooks);
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
