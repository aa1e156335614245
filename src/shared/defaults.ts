/** Every option default of this package, declared once. */

/** `atomize` options, as alova documents them. */
export const ATOMIZE_DEFAULTS = Object.freeze({
  /** @default 'default' */
  channel: 'default',
  /** Milliseconds to wait for the lock. @default 5000 */
  timeout: 5000,
  /** Milliseconds between tries while the channel is held. @default 100 */
  interval: 100,
  /** Line up waiting callers of one process locally (not an alova option). @default true */
  queue: true,
});
