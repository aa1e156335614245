/**
 * What the cache stores: JSON text, and alova's records, `[data, expireTimestamp, ...tag]`, which
 * expire (the same rules as the Redis adapter).
 */

/**
 * The JSON text of `value`; a value JSON cannot represent (a function, a symbol, `undefined`, a
 * bigint, a circular structure) is a TypeError with code `ERR_ATOMIZE_INVALID_VALUE`.
 */
export const serialize = (value: unknown, adapter: string): string => {
  let text: string | undefined;
  let cause: unknown;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    cause = error;
  }
  if (text !== undefined) return text;
  const what = typeof value === 'object' ? 'an object JSON cannot represent' : `a ${typeof value}`;
  throw Object.assign(
    new TypeError(`${adapter}: a cache value must be representable as JSON, got ${what}${cause ? ` (${(cause as Error).message})` : ''}; use remove() to delete an entry`, { cause }),
    { code: 'ERR_ATOMIZE_INVALID_VALUE' },
  );
};

/** The expire timestamp of an alova record (an array whose second element is a finite number), if `value` is one. */
export const expireOf = (value: unknown): number | undefined => {
  const expire = Array.isArray(value) ? (value[1] as unknown) : undefined;
  return typeof expire === 'number' && Number.isFinite(expire) ? expire : undefined;
};

/** True when `value` is an alova record whose expire time has come (alova reads it as a miss from then on). */
export const isExpired = (value: unknown, now = Date.now()): boolean => {
  const expire = expireOf(value);
  return expire !== undefined && expire <= now;
};
