/** Promise helpers for waiting with a bound and an abort signal. */

/** Called by a release notification that this waiter may take the lock: ends the pause at once. */
export type Wake = () => void;

/**
 * Resolves after `ms` (never past `until`), or early when `signal` aborts or `wake()` is called.
 * Never rejects.
 */
export const pause = (ms: number, until: number, signal: AbortSignal, onWake?: (wake: Wake) => () => void): Promise<void> =>
  new Promise((resolve) => {
    const wakeUp: { off?: () => void } = {};
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      wakeUp.off?.();
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, Math.min(ms, until - Date.now())));
    if (signal.aborted) return done();
    signal.addEventListener('abort', done, { once: true });
    wakeUp.off = onWake?.(done);
  });

/** The outcome of {@link settleWithin}: the value, the error, or `late` when time ran out first. */
export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown } | { late: true };

/**
 * Waits for `promise` at most `ms` (or until `signal` aborts). When it comes too late, `onLate`
 * receives its value later, so that a late acquisition can still be released.
 */
export const settleWithin = <T>(promise: Promise<T>, ms: number, signal: AbortSignal, onLate: (value: T) => void): Promise<Settled<T>> =>
  new Promise((resolve) => {
    let finished = false;
    const finish = (outcome: Settled<T>): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', late);
      resolve(outcome);
    };
    const late = (): void => finish({ late: true });
    const timer = setTimeout(late, Math.max(0, ms));
    if (signal.aborted) late();
    else signal.addEventListener('abort', late, { once: true });
    promise.then(
      (value) => (finished ? onLate(value) : finish({ ok: true, value })),
      (error) => finish({ ok: false, error }),
    );
  });
