/**
 * In-process order: callers of one locker and channel line up here, and only the head of the line
 * talks to the backend. The others wait locally, in arrival order, with no backend traffic.
 */

interface Line {
  busy: boolean;
  waiting: Array<() => void>;
}

const lines = new WeakMap<object, Map<string, Line>>();

const lineOf = (locker: object, channel: string): Line => {
  let byChannel = lines.get(locker);
  if (!byChannel) lines.set(locker, (byChannel = new Map()));
  let line = byChannel.get(channel);
  if (!line) byChannel.set(channel, (line = { busy: false, waiting: [] }));
  return line;
};

/** Passes the turn to the next caller, or frees the line. */
const leave = (locker: object, channel: string, line: Line): void => {
  const next = line.waiting.shift();
  if (next) return next();
  line.busy = false;
  lines.get(locker)?.delete(channel);
};

/**
 * Waits for this caller's turn on `channel`, at most `ms`. Resolves a function that ends the turn, or
 * `null` when `signal` aborted or the time ran out first (the caller then left the line). A free line
 * costs no timer.
 */
export const takeTurn = (locker: object, channel: string, signal: AbortSignal, ms: number): Promise<(() => void) | null> => {
  const line = lineOf(locker, channel);
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    leave(locker, channel, line);
  };
  if (!line.busy) {
    line.busy = true;
    return Promise.resolve(end);
  }
  if (signal.aborted) return Promise.resolve(null);
  return new Promise((resolve) => {
    const start = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', quit);
      resolve(end);
    };
    const quit = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', quit);
      line.waiting.splice(line.waiting.indexOf(start) >>> 0, 1);
      resolve(null);
    };
    const timer = setTimeout(quit, ms);
    line.waiting.push(start);
    signal.addEventListener('abort', quit, { once: true });
  });
};
