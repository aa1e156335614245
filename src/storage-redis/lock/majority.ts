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
