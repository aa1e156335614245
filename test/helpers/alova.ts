import { createAlova } from 'alova';
import adapterFetch from 'alova/fetch';

/** An alova instance on `baseURL` whose l2Cache offers `locker` (nothing is cached). */
export const alovaWith = (baseURL: string, locker: unknown) => {
  const l2Cache = { locker, set: () => undefined, get: () => undefined, remove: () => undefined, clear: () => undefined };
  return createAlova({ baseURL, requestAdapter: adapterFetch(), l2Cache, cacheFor: null });
};

/** A GET of the in-flight server's work endpoint. */
export const work = (alova: ReturnType<typeof alovaWith>, channels: string | string[], ms = 5) =>
  alova.Get<{ ok: boolean; n: number }>('/work', { params: { channels: [channels].flat().join(','), ms } });
