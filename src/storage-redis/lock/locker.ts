import type { AtomicLocker, LockHandle, ReleaseEvent, WaitTicket } from '../../shared/contract.js';
import { InvalidChannelError, LockerClosedError, LockReleaseError, LockTimeoutError } from '../../shared/errors.js';
import { lockKey } from '../cache/keys.js';
import { within } from '../connection/within.js';
import { FairLine } from '../line/fair-line.js';
import type { ReleaseNotifier } from '../notify/release-notifier.js';
import type { LockContext } from './lock-context.js';
import { RedisLockHandle } from './lock-handle.js';
import { releaseKey } from './release-key.js';
import { takeLease } from './take-lease.js';
import { judge } from './verdict.js';

const noop = (): void => undefined;

const checkChannel = (channel: unknown): string => {
  if (typeof channel !== 'string' || channel === '') throw new InvalidChannelError(channel);
  return channel;
};

/**
 * The adapter's lock (`adapter.locker`): alova's `lock` / `unlock`, and the richer contract of this
 * package (`tryAcquire` with kept-alive handles, `onRelease` when notifications are on).
 */
export class RedisLocker implements AtomicLocker {
  /** Present only when the adapter's `notify` option is on. */
  declare readonly onRelease?: (channel: string, listener: (event?: ReleaseEvent) => void) => () => void;
  readonly #ctx: LockContext;
  readonly #prefix: string;
  readonly #notifier: ReleaseNotifier | undefined;
  /**
   * The line's scripts, on one server or a cluster (fencing tokens; with the `fair` option also the
   * line of waiters). A quorum uses Redlock, and gives no tokens.
   */
  readonly #line: FairLine | undefined;
  /** Locks taken with alova's `lock`, by channel. */
  readonly #held = new Map<string, LockHandle>();
  #closed = false;

  constructor(ctx: LockContext, prefix: string, notifier?: ReleaseNotifier) {
    this.#ctx = ctx;
    this.#prefix = prefix;
    this.#notifier = notifier;
    this.#line = ctx.voters.length === 1 ? new FairLine(ctx, prefix, notifier) : undefined;
    if (notifier) {
      (this as { onRelease?: RedisLocker['onRelease'] }).onRelease = (channel, listener) => {
        const key = lockKey(prefix, checkChannel(channel));
        if (typeof listener !== 'function') throw new TypeError('onRelease: expected a listener function');
        return this.#closed ? noop : notifier.subscribe(key, listener);
      };
    }
  }

  /**
   * One attempt. With fair handoff the ticket keeps the caller's place in the channel's line;
   * otherwise (a quorum, or `fair: false`) whoever tries first after a release wins.
   */
  async tryAcquire(channel: string, ticket?: WaitTicket): Promise<LockHandle | null> {
    checkChannel(channel);
    const ctx = this.#ctx;
    if (this.#closed) throw new LockerClosedError('RedisStorageAdapter');
    if (ctx.voters.some((voter) => voter.pending)) {
      await within(Promise.all(ctx.voters.map((voter) => voter.settled)), ctx.bound).catch(noop);
    }
    // Servers known to be down (or refusing our credentials) answer at once, without a command.
    const down = ctx.voters.filter((voter) => voter.down).map((voter) => ({ link: voter, error: voter.lastError }));
    if (down.length > ctx.voters.length - ctx.quorum) throw judge(channel, down, ctx.voters.length, ctx.quorum) as Error;
    if (this.#line) return this.#closedCheck(await this.#line.tryAcquire(channel, ctx.fair ? ticket : undefined));
    const key = lockKey(this.#prefix, channel);
    const lock = await takeLease(ctx, channel, key);
    if (!lock) return null;
    if (this.#closed) {
      await releaseKey(ctx, channel, key, lock.value).catch(noop);
      throw new LockerClosedError('RedisStorageAdapter');
    }
    return new RedisLockHandle(ctx, channel, key, lock);
  }

  async lock(resource: string | string[]): Promise<void> {
    const started = Date.now();
    const taken: LockHandle[] = [];
    try {
      for (const channel of new Set([resource].flat())) {
        const handle = await this.tryAcquire(channel);
        if (!handle) throw new LockTimeoutError(channel, 0, Date.now() - started);
        taken.push(handle);
      }
    } catch (error) {
      await Promise.all(taken.map((handle) => handle.release().catch(noop)));
      throw error;
    }
    for (const handle of taken) this.#held.set(handle.channel, handle);
  }

  /** Releases what `lock` took here; a lock already expired is fine, a failure is a process warning. */
  async unlock(resource: string | string[]): Promise<void> {
    for (const channel of new Set([resource].flat())) {
      const handle = this.#held.get(channel);
      if (!handle) continue;
      this.#held.delete(channel);
      await handle.release().catch((error: unknown) => process.emitWarning(new LockReleaseError(channel, error)));
    }
  }

  /**
   * Refuses new attempts; takes every waiting ticket of this adapter out of its line (handing on a
   * lock granted meanwhile); ends every lock still held here: its `signal` aborts first (a request
   * still running is aborted, and its call rejects with `LockLostError`), then it is released (best
   * effort). Then closes the subscriber connections.
   */
  async close(ms: number): Promise<void> {
    this.#closed = true;
    this.#held.clear();
    const live = [...this.#ctx.live];
    for (const handle of live) handle.lose(new LockerClosedError('RedisStorageAdapter'));
    await Promise.all([this.#line?.close(), ...live.map((handle) => handle.release().catch(noop))]);
    await this.#notifier?.close(ms);
  }

  /** A handle won while the adapter was closing is given back at once. */
  async #closedCheck(handle: LockHandle | null): Promise<LockHandle | null> {
    if (!handle || !this.#closed) return handle;
    await handle.release().catch(noop);
    throw new LockerClosedError('RedisStorageAdapter');
  }
}
