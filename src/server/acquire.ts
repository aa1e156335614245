import { randomUUID } from 'node:crypto';
import type { AtomicLocker, LockHandle, ReleaseEvent, WaitTicket } from '../shared/contract.js';
import { AtomizeAbortError, LockTimeoutError } from '../shared/errors.js';
import { publishAcquire, publishLost, publishTimeout, publishWait } from './events.js';
import { takeTurn } from './local-queue.js';
import { pause, settleWithin, type Wake } from './timing.js';

/** One wait for locks: shared by every channel of one call. */
export interface Wait {
  readonly locker: AtomicLocker;
  /** The object the in-process line is kept for (the user's locker). */
  readonly lineKey: object;
  readonly started: number;
  readonly timeout: number;
  readonly interval: number;
  /** Take the in-process turn first (see `AtomizeOptions.queue`). */
  readonly queue: boolean;
  readonly signal: AbortSignal;
}

/** A channel this call holds: the backend lock and its in-process turn. */
export interface Held {
  readonly handle: LockHandle;
  readonly endTurn: () => void;
  /** When it was taken (Date.now()). */
  readonly since: number;
  /** Stops reporting the loss of the lock (the `alova-atomize:lost` event). */
  readonly unwatch: () => void;
}

/** Errors no retry can mend: fail at once instead of waiting out the deadline. */
const FATAL = new Set(['ERR_ATOMIZE_LOCKER_CONFIG', 'ERR_ATOMIZE_LOCKER_CLOSED', 'ERR_ATOMIZE_INVALID_CHANNEL']);
const isFatal = (error: unknown): boolean => FATAL.has((error as { code?: unknown } | null)?.code as string);

const giveUp = (wait: Wait, channel: string, cause?: unknown): Error => {
  if (wait.signal.aborted) return new AtomizeAbortError(channel, wait.signal.reason);
  const waited = Date.now() - wait.started;
  publishTimeout(channel, waited);
  return new LockTimeoutError(channel, wait.timeout, waited, cause);
};

const releaseLate = (handle: LockHandle | null): void => {
  handle?.release().catch(() => undefined);
};

/**
 * Tries until the channel is taken. Between tries it waits `interval` (or longer when a fair locker
 * says the ticket's turn will be announced: `ticket.retryAfter`), and less when the locker says the
 * channel was released, or handed to this caller. A handoff to another caller changes nothing.
 */
const acquireFromBackend = async (wait: Wait, channel: string, since: number): Promise<LockHandle> => {
  const deadline = wait.started + wait.timeout;
  const ending = new AbortController();
  const ticket: WaitTicket = { id: randomUUID(), signal: ending.signal, interval: wait.interval };
  let woken = false;
  let wake: Wake | undefined;
  const unsubscribe = wait.locker.onRelease?.(
    channel,
    (event?: ReleaseEvent) => {
      if (event?.grantedTo !== undefined && event.grantedTo !== ticket.id) return;
      woken = true;
      wake?.();
    },
    ticket,
  );
  let lastError: unknown;
  let attempts = 0;
  try {
    for (;;) {
      woken = false;
      attempts++;
      ticket.retryAfter = undefined;
      const attempt = wait.locker.tryAcquire(channel, ticket);
      const outcome = await settleWithin(attempt, deadline + wait.interval - Date.now(), wait.signal, releaseLate);
      if ('late' in outcome) throw giveUp(wait, channel, lastError ?? new Error('the lock backend did not answer in time'));
      if (outcome.ok && outcome.value) {
        publishAcquire(channel, Date.now() - since, attempts, outcome.value.token);
        return outcome.value;
      }
      if (outcome.ok && attempts === 1) publishWait(channel);
      if (!outcome.ok) {
        if (isFatal(outcome.error)) throw outcome.error;
        lastError = outcome.error;
      }
      if (wait.signal.aborted || Date.now() >= deadline) throw giveUp(wait, channel, lastError);
      if (!woken) {
        await pause(Math.max(wait.interval, ticket.retryAfter ?? 0), deadline, wait.signal, (done) => {
          wake = done;
          return () => (wake = undefined);
        });
      }
      if (wait.signal.aborted) throw giveUp(wait, channel, lastError);
    }
  } finally {
    unsubscribe?.();
    ending.abort();
  }
};

const noTurn = (): void => undefined;

/** A channel just taken: when, and a watch on its loss (reported as `alova-atomize:lost`). */
const heldFrom = (handle: LockHandle, endTurn: () => void): Held => {
  const onLost = (): void => publishLost(handle.channel, handle.signal.reason);
  handle.signal.addEventListener('abort', onLost, { once: true });
  return { handle, endTurn, since: Date.now(), unwatch: () => handle.signal.removeEventListener('abort', onLost) };
};

const acquireChannel = async (wait: Wait, channel: string): Promise<Held> => {
  const since = Date.now();
  if (!wait.queue) return heldFrom(await acquireFromBackend(wait, channel, since), noTurn);
  const remaining = Math.max(0, wait.started + wait.timeout - Date.now());
  const endTurn = await takeTurn(wait.lineKey, channel, wait.signal, remaining + 1);
  if (!endTurn) throw giveUp(wait, channel);
  try {
    return heldFrom(await acquireFromBackend(wait, channel, since), endTurn);
  } catch (error) {
    endTurn();
    throw error;
  }
};

/** Takes every channel in order; on failure releases those already taken, then rethrows. */
export const acquireAll = async (wait: Wait, channels: readonly string[], release: (held: Held[]) => Promise<void>): Promise<Held[]> => {
  const held: Held[] = [];
  try {
    for (const channel of channels) held.push(await acquireChannel(wait, channel));
    return held;
  } catch (error) {
    await release(held);
    throw error;
  }
};
