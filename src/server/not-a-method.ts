/** What `atomize` was given instead of an alova Method, in words, with the likely fix. */
import { describe } from '../shared/errors.js';

/** The request methods of an alova instance: `alova.Get(url)` makes a Method. */
const MAKERS = new Set(['Get', 'Post', 'Put', 'Delete', 'Patch', 'Head', 'Options', 'Request']);

const HOW = 'make one with the alova instance, e.g. alova.Get(url) or alova.Post(url, data)';

/** The end of the message: `got …`, and what to do instead. */
export const notAMethod = (value: unknown): string => {
  if (value === undefined || value === null) return `got ${String(value)}: ${HOW}`;
  if (typeof value === 'function') {
    const name = value.name.replace(/^bound /, '');
    if (MAKERS.has(name)) return `got a function named ${name}: did you mean alova.${name}(...)? (call it: atomize takes the method it makes)`;
    return name ? `got a function named ${name}: pass the alova Method it makes, not the function` : `got an anonymous function: ${HOW}`;
  }
  if (typeof value === 'string') return `got the string ${describe(value)}: ${HOW}`;
  if (typeof value !== 'object') return `got the ${typeof value} ${describe(value)}: ${HOW}`;
  if (Array.isArray(value)) return `got an array of ${value.length}: atomize takes one method (atomize each, or hold one lock around several with withLock)`;
  if (typeof (value as { then?: unknown }).then === 'function') {
    return 'got a Promise: pass the method itself (alova.Get(url)), not what its send() or await gives';
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) {
    const keys = Object.keys(value);
    const shown = keys.length === 0 ? 'no keys' : `keys ${keys.slice(0, 5).join(', ')}${keys.length > 5 ? ', …' : ''}`;
    return `got a plain object with ${shown}: ${HOW} (alova.Request(config) takes a config object)`;
  }
  const kind = (proto as { constructor?: { name?: unknown } } | undefined)?.constructor?.name;
  return `got ${typeof kind === 'string' && kind ? `an instance of ${kind}` : 'an object'} that has no send() method: ${HOW}`;
};
