import type { Lock } from '@sesamecare-oss/redlock';
import { randomUUID } from 'node:crypto';
import type { LockHandle, WaitTicket } from '../../shared/contract.js';
import { ATOMIZE_DEFAULTS } from '../../shared/defaults.js';
import { LockerConfigError, describe } from '../../shared/errors.js';
import { fenceKey, fenceKeyOfLock, lockKey, notifyChannelOf } from '../cache/keys.js';
import { isConfigError, reasonOf, rootOf, unavailable } from '../connection/server-errors.js';
import { within } from '../connection/within.js';
import type { LockContext } from '../lock/lock-context.js';
import { RedisLockHandle } from '../lock/lock-handle.js';
import type { ReleaseNotifier } from '../notify/release-notifier.js';
import { redisPeers } from '../peers.js';
import { fairAcquire, fairExtend, fairRelease, type FairKeys, type TryMode } from './fair-scripts.js';

const noop = (): void => undefined;

/** A lock handed to a waiter lasts this many of the waiter's `interval`s until it confirms, and at least GRANT_MIN_MS. */
const GRANT_INTERVALS = 3;
const GRANT_MIN_MS = 100;
/** A waiter told of its turn tries again after (its place in line) × `interval`, at most this many. */
const PACE_INTERVALS = 8;

/** A renewal that found the key no longer naming this holder. */
class NotHeldError extends Error {
  constructor(channel: string) {
    super(`the lock of channel ${describe(channel)} is no longer this holder's in Redis: its key expired (the lease ran out), or another holder has it now`);
    this.name = 'NotHeldError';
  }
}

/** One wait of this process, by ticket id. */
interface Waiting {
  readonly keys: FairKeys;
  /** The ticket as the line has it: `tag|window|id`. */
  readonly member: string;
  /** The ticket may be in the Redis line, or may hold a lock handed to it: an attempt said so, or its outcome is unknown. */
  maybeQueued: boolean;
  /** An attempt is on its way. */
  trying: boolean;
  /** A handle was returned to the waiter: the lock is the handle's now, not the wait's. */
  taken: boolean;
  ended: boolean;
}

/**
 * The lock of one server or cluster (not a quorum), with fencing tokens and, for waits with a ticket,
 * a fair line (see fair-scripts.ts). A release hands the lock to the first waiter whose process is
 * still connected, announcing it on that process's grant channel; the grantee confirms with its next
 * attempt (one round trip), which sets its own lease. A handle is only returned for a lease confirmed
 * that way. A waiter in line has nothing to renew: it tries again only now and then, to recover a lost
 * line. Every ticket this process may have left in a line (also by an attempt whose answer never came)
 * leaves it when its wait ends, or when the adapter closes.
 */
export class FairLine {
  readonly #waiting = new Map<string, Waiting>();
  /** Attempts on their way, for `close()`. */
  readonly #attempts = new Set<Promise<unknown>>();
  /** Tickets whose lock is held here (a handle not yet released): a late grant message must not touch them. */
  readonly #held = new Set<string>();
  readonly #notifier: ReleaseNotifier | undefined;
  /** Whether a PUBLISH's count of receivers tells if a process is connected (one server; not a cluster). */
  readonly #counted: '1' | '0';

  constructor(
    private readonly ctx: LockContext,
    private readonly prefix: string,
    notifier?: ReleaseNotifier,
  ) {
    this.#notifier = notifier;
    this.#counted = ctx.voters[0]!.client.isCluster ? '0' : '1';
    notifier?.grantChannel(`${prefix}grant:`, (key, member) => this.#granted(key, member));
  }

  async tryAcquire(channel: string, ticket?: WaitTicket): Promise<LockHandle | null> {
    const ctx = this.ctx;
    const link = ctx.voters[0]!;
    const keys = this.#keysOf(lockKey(this.prefix, channel), fenceKey(this.prefix, channel));
    // A new wait joins under the grant channel once it is confirmed (the first wait of an adapter waits
    // one round trip for it): a ticket joined without one is a polling one for the whole wait.
    const tag = ticket && !this.#waiting.has(ticket.id) ? await this.#notifier?.heardTag(ctx.bound) : undefined;
    const waiting = ticket ? this.#follow(ticket, keys, tag) : undefined;
    const member = waiting?.member ?? `n|0|${randomUUID()}`;
    const mode: TryMode = !waiting ? '0' : waiting.maybeQueued ? '2' : '1';
    const started = Date.now();
    // An answer after the bound: a wait still on keeps it (its next attempt finds the lock its own,
    // or its place); otherwise the lock won, or the place taken, is given up.
    const late = (): void => {
      if (!waiting || waiting.ended) void this.#leave(keys, member);
    };
    if (waiting) waiting.trying = true;
    const attempt = within(fairAcquire(link.client, keys, ctx.scriptDb, member, ctx.ttl, mode), 2 * ctx.bound, late);
    this.#attempts.add(attempt);
    let won: number;
    try {
      won = await attempt;
    } catch (error) {
      // Unknown outcome: maybe queued, maybe handed the lock. The end of the wait cleans it up.
      if (waiting && !waiting.ended) waiting.maybeQueued = true;
      else void this.#leave(keys, member);
      // Refused credentials or permissions (`NOPERM`): no retry can mend that, atomize fails at once.
      if (isConfigError(error)) throw new LockerConfigError(`Redis refused the lock commands for channel ${describe(channel)}: ${reasonOf(link, error)}`, rootOf(error));
      throw unavailable(`lock channel ${describe(channel)}`, [reasonOf(link, error)], error);
    } finally {
      this.#attempts.delete(attempt);
      if (waiting) waiting.trying = false;
    }
    if (won <= 0) {
      if (waiting) waiting.maybeQueued = true;
      if (waiting?.ended) void this.#leave(keys, member);
      if (ticket) ticket.retryAfter = this.#pace(member, -won, ticket);
      return null;
    }
    const lock = this.#confirmed(keys, member, started);
    if (!lock) {
      // The answer came after the lease it confirmed had run out (a stalled event loop): not ours.
      // Should the leave be lost too, the next try finds the place (mode '2'), and the wait's end leaves.
      if (waiting) waiting.maybeQueued = true;
      void this.#leave(keys, member);
      return null;
    }
    if (waiting) waiting.taken = true;
    this.#held.add(member);
    const free = (): Promise<void> => this.#free(channel, keys, member).finally(() => this.#held.delete(member));
    return new RedisLockHandle(ctx, channel, keys.lock, lock, free, won, {
      extend: (current) => this.#extend(channel, keys, current),
      isGone: async (error) => error instanceof NotHeldError,
    });
  }

  /**
   * Leaves every line this process may be in (handing on any lock granted meanwhile), once the
   * attempts on their way have answered or timed out. Never rejects.
   */
  async close(): Promise<void> {
    await Promise.allSettled([...this.#attempts]);
    const leaving = [...this.#waiting].map(([id, waiting]) => {
      waiting.ended = true;
      this.#waiting.delete(id);
      return waiting.taken ? undefined : this.#leave(waiting.keys, waiting.member);
    });
    await Promise.all(leaving);
  }

  #keysOf(lock: string, fence: string): FairKeys {
    const link = this.ctx.voters[0]!;
    return {
      lock,
      fence,
      pub: this.ctx.notify ? notifyChannelOf(link, lock) : '',
      // Also without a notifier of its own: waiters of other adapters may listen on theirs.
      procs: notifyChannelOf(link, `${this.prefix}grant:`),
    };
  }

  /**
   * How long a waiter at `place` (1: next) can wait for its grant to be announced before it tries
   * again; undefined (its `interval`) when announcements do not reach it.
   */
  #pace(member: string, place: number, ticket: WaitTicket): number | undefined {
    if (place <= 0 || member.startsWith('p|')) return undefined;
    return Math.min(place, PACE_INTERVALS) * (ticket.interval ?? ATOMIZE_DEFAULTS.interval);
  }

  /** The lock held with `member` since `started` under this adapter's lease, or null when that already ran out. */
  #confirmed(keys: FairKeys, member: string, started: number): Lock | null {
    const ctx = this.ctx;
    const drift = Math.round(ctx.ttl * 0.01) + 2;
    const expiration = started + ctx.ttl - drift;
    return Date.now() < expiration ? new (redisPeers().redlock.Lock)(ctx.redlock, [keys.lock], member, [], expiration) : null;
  }

  /** One renewal of the lease: the renewed lock, or `NotHeldError` when the key is no longer ours. */
  async #extend(channel: string, keys: FairKeys, current: Lock): Promise<Lock> {
    const started = Date.now();
    const renewed = await fairExtend(this.ctx.voters[0]!.client, keys, this.ctx.scriptDb, current.value, this.ctx.ttl);
    if (renewed !== 1) throw new NotHeldError(channel);
    const lock = this.#confirmed(keys, current.value, started);
    if (!lock) throw new Error('the renewal was answered after the lease it renewed had run out');
    return lock;
  }

  /** Releases the lock held with `member` (handing it to the first live waiter); rejects when Redis did not confirm. */
  async #free(channel: string, keys: FairKeys, member: string): Promise<void> {
    try {
      await this.#release(keys, member);
    } catch (error) {
      throw unavailable(`confirm the release of channel ${describe(channel)}`, [reasonOf(this.ctx.voters[0]!, error)], error);
    }
  }

  /** Leaves the line, handing on a lock granted meanwhile (best effort: a ticket left behind is skipped, or runs out). */
  #leave(keys: FairKeys, member: string): Promise<void> {
    return this.#release(keys, member).then(noop, noop);
  }

  /** The release script, bounded: takes `member` out of the line, hands on or deletes a lock it holds. */
  #release(keys: FairKeys, member: string): Promise<number> {
    const { voters, scriptDb, bound } = this.ctx;
    return within(fairRelease(voters[0]!.client, keys, scriptDb, member, keys.pub, keys.procs, this.#counted), bound);
  }

  /** A grant announced to this process: one for a wait that has ended here is handed on at once. */
  #granted(key: string, member: string): void {
    const id = member.split('|').slice(2).join('|');
    const waiting = this.#waiting.get(id);
    if ((waiting && !waiting.ended) || this.#held.has(member)) return;
    const fence = fenceKeyOfLock(this.prefix, key);
    if (fence) void this.#leave(this.#keysOf(key, fence), member);
  }

  /** Tracks a ticket from its first attempt until its wait ends; then leaves the line if it may be in it. */
  #follow(ticket: WaitTicket, keys: FairKeys, tag = 'p'): Waiting {
    const known = this.#waiting.get(ticket.id);
    if (known) return known;
    const window = Math.max(GRANT_MIN_MS, Math.ceil(GRANT_INTERVALS * (ticket.interval ?? ATOMIZE_DEFAULTS.interval)));
    const waiting: Waiting = { keys, member: `${tag}|${window}|${ticket.id}`, maybeQueued: false, trying: false, taken: false, ended: false };
    this.#waiting.set(ticket.id, waiting);
    const end = (): void => {
      if (waiting.ended) return;
      waiting.ended = true;
      this.#waiting.delete(ticket.id);
      // An attempt on its way leaves when it answers (see tryAcquire).
      if (!waiting.taken && waiting.maybeQueued && !waiting.trying) void this.#leave(keys, waiting.member);
    };
    if (ticket.signal.aborted) queueMicrotask(end);
    else ticket.signal.addEventListener('abort', end, { once: true });
    return waiting;
  }
}
