/** Waiting for a condition instead of hoping a sleep was long enough. */

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `check` (every 5 ms) until it is truthy and resolves its value. The bound is generous: it only
 * catches a hang, never decides a race.
 */
export const waitFor = async <T>(check: () => T | Promise<T>, what: string, ms = 20_000): Promise<NonNullable<T>> => {
  const until = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
};
