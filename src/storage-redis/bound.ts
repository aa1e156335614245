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

/** The outcome of {@link majority}: whether `quorum` tasks succeeded, and the failures seen so far. */
export interface Tally {
  readonly reached: boolean;
  readonly failures: ReadonlyArray<{ index: number; error: unknown }>;
}

/** Resolves as soon as `quorum` tasks fulfilled, or as soon as too many failed for that. Never rejects. */
export const majority = (tasks: ReadonlyArray<Promise<unknown>>, quorum: number): Promise<Tally> =>
  new Promise((resolve) => {
    let ok = 0;
    const failures: Array<{ index: number; error: unknown }> = [];
    const check = (): void => {
      if (ok >= quorum) resolve({ reached: true, failures: [...failures] });
      else if (failures.length > tasks.length - quorum) resolve({ reached: false, failures: [...failures] });
    };
    tasks.forEach((task, index) =>
      task.then(
        () => {
          ok++;
          check();
        },
        (error: unknown) => {
          failures.push({ index, error });
          check();
        },
      ),
    );
  });
