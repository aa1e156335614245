/** Time bounds for Redis commands: no caller waits on a stopped or unreachable server past its bound. */

/** A command that did not answer within its bound. */
export class NoAnswerError extends Error {
  constructor(readonly ms: number) {
    super(`no answer within ${ms}ms`);
    this.name = 'NoAnswerError';
  }
}

/**
 * Settles like `promise`, or rejects with {@link NoAnswerError} after `ms`. A value that comes too
 * late goes to `onLate` (to release a lock taken after the caller gave up); a late error is dropped.
 */
export const within = <T>(promise: Promise<T>, ms: number, onLate?: (value: T) => void): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      reject(new NoAnswerError(Math.round(ms)));
    }, Math.max(0, ms));
    timer.unref?.();
    promise.then(
      (value) => {
        clearTimeout(timer);
        if (late) onLate?.(value);
        else resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        if (!late) reject(error);
      },
    );
  });
