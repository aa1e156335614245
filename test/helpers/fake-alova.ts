import { createAlova } from 'alova';

/** One request the fake server received: the test answers it (or not) when it wants. */
export interface FakeRequest {
  readonly channels: string[];
  /** Answers the request with `{ ok: true, n }`. */
  answer(): void;
  /** Fails the request with `error`. */
  fail(error: Error): void;
  readonly aborted: boolean;
  readonly settled: boolean;
}

/**
 * An alova instance whose requests never leave the process (no sockets, no timers of its own), so that
 * tests of atomize's logic can run under fake timers. Requests are answered by the test, or at once
 * with `autoAnswer`. It counts the requests in flight per channel, as the in-flight server does.
 */
export const fakeAlova = (locker: unknown, { autoAnswer = false } = {}) => {
  const requests: FakeRequest[] = [];
  const inFlight = new Map<string, number>();
  const most: Record<string, number> = {};
  const l2Cache = { locker, set: () => undefined, get: () => undefined, remove: () => undefined, clear: () => undefined };
  const alova = createAlova({
    baseURL: 'http://fake.invalid',
    cacheFor: null,
    l2Cache,
    requestAdapter: (elements) => {
      const channels = (new URL(elements.url, 'http://fake.invalid').searchParams.get('channels') ?? '').split(',').filter(Boolean);
      for (const c of channels) {
        inFlight.set(c, (inFlight.get(c) ?? 0) + 1);
        most[c] = Math.max(most[c] ?? 0, inFlight.get(c)!);
      }
      let settle!: { resolve: (value: unknown) => void; reject: (error: Error) => void };
      const response = new Promise((resolve, reject) => (settle = { resolve, reject }));
      const state = { aborted: false, settled: false };
      const end = (how: () => void): void => {
        if (state.settled) return;
        state.settled = true;
        for (const c of channels) inFlight.set(c, inFlight.get(c)! - 1);
        how();
      };
      const request: FakeRequest = {
        channels,
        answer: () => end(() => settle.resolve({ ok: true, n: requests.length })),
        fail: (error) => end(() => settle.reject(error)),
        get aborted() {
          return state.aborted;
        },
        get settled() {
          return state.settled;
        },
      };
      requests.push(request);
      if (autoAnswer) queueMicrotask(() => request.answer());
      return {
        response: () => response,
        headers: async () => ({}),
        abort: () => {
          state.aborted = true;
          request.fail(Object.assign(new Error('The request was aborted'), { name: 'AbortError' }));
        },
      };
    },
  });
  return {
    alova,
    requests,
    /** A GET that holds `channels` on the fake server while it is in flight. */
    work: (channels: string | string[]) => alova.Get<{ ok: boolean; n: number }>('/work', { params: { channels: [channels].flat().join(',') } }),
    /** The most requests that were in flight at once, per channel. */
    maxInFlight: () => ({ ...most }),
  };
};

