import type { Method } from 'alova';

type Transform = (data: unknown, headers: unknown) => unknown;

/**
 * Whether `method.send` is alova's own (that of the base class of its prototype chain): a method whose
 * send is another (an atomized method, a subclass's override) is sent as it is.
 */
const sendsItself = (method: Method): boolean => {
  let base = Object.getPrototypeOf(method) as { send?: unknown } | null;
  while (base && Object.getPrototypeOf(base) !== Object.prototype) base = Object.getPrototypeOf(base) as { send?: unknown } | null;
  return method.send === base?.send;
};

/**
 * Whether the send must go as it is: alova writes the method's response to the l2 cache
 * (`cacheFor: { mode: 'restore' }`), or keeps the method itself as a snapshot for its matchers (a
 * method with a `name`: the snapshot must be the caller's method, not a copy).
 */
const asItIs = (method: Method): boolean => {
  const { cacheFor, name } = method.config as { cacheFor?: unknown; name?: unknown };
  if (name !== undefined && name !== null && name !== '') return true;
  return typeof cacheFor === 'object' && cacheFor !== null && (cacheFor as { mode?: unknown }).mode === 'restore';
};

/**
 * Sends `method`, and calls `onResponded` once its response has been handled: alova's `responded`
 * hook and the method's `transform` have returned, and alova's own bookkeeping (cache invalidation by
 * `hitSource`, cache writes) has not begun. The send goes through a copy of the method whose config has
 * a `transform` of its own, so the caller's method is never changed; `fromCache` is copied back.
 *
 * `onResponded` is never called for a send that fails, for a method whose response alova stores in the
 * l2 cache (that write stays inside the caller's critical section), for a method with a `name` (alova
 * keeps the sent method as a snapshot for `invalidateCache` and the like: it stays the caller's), or
 * for a method whose `send` is not alova's (an atomized method: its own locks are released by its own
 * send).
 */
export const sendNoticingResponse = <T>(method: Method, forceRequest: boolean, onResponded: () => void): Promise<T> => {
  if (!sendsItself(method) || asItIs(method)) return method.send(forceRequest) as Promise<T>;
  const transform = (method.config as { transform?: Transform }).transform;
  const config = {
    ...method.config,
    transform: async (data: unknown, headers: unknown): Promise<unknown> => {
      const value = transform ? await transform(data, headers) : data;
      onResponded();
      return value;
    },
  };
  const copy = Object.assign(Object.create(Object.getPrototypeOf(method) as object) as Method, method, { config });
  return (copy.send(forceRequest) as Promise<T>).finally(() => {
    method.fromCache = copy.fromCache;
  });
};
