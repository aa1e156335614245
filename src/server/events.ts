/**
 * What the locks are doing, for whoever listens: `node:diagnostics_channel` channels (published only
 * when someone subscribes, so nothing is built otherwise) and `NODE_DEBUG=alova-atomize` lines.
 */
import { channel, tracingChannel } from 'node:diagnostics_channel';
import { debuglog } from 'node:util';

/** The channel names, exported for subscribers. */
export const EVENTS = Object.freeze({
  wait: 'alova-atomize:wait',
  acquire: 'alova-atomize:acquire',
  release: 'alova-atomize:release',
  lost: 'alova-atomize:lost',
  timeout: 'alova-atomize:timeout',
  /** A TracingChannel around each send of an atomized method. */
  send: 'alova-atomize:send',
});

const waitChannel = channel(EVENTS.wait);
const acquireChannel = channel(EVENTS.acquire);
const releaseChannel = channel(EVENTS.release);
const lostChannel = channel(EVENTS.lost);
const timeoutChannel = channel(EVENTS.timeout);
/** Context of `alova-atomize:send`: the channels a send locks, and the method it sends. */
export const sendTracing = tracingChannel<object, { channels: readonly string[]; method: unknown }>(EVENTS.send);

const log = debuglog('alova-atomize');

/** A call found `channel` held by someone else (once per channel and call). */
export const publishWait = (name: string): void => {
  if (waitChannel.hasSubscribers) waitChannel.publish({ channel: name });
  if (log.enabled) log('wait %j: held by another', name);
};

/** `channel` was taken after `waitedMs` and `attempts` tries. */
export const publishAcquire = (name: string, waitedMs: number, attempts: number, token: number | undefined): void => {
  if (acquireChannel.hasSubscribers) acquireChannel.publish({ channel: name, waitedMs, attempts, ...(token === undefined ? {} : { token }) });
  if (log.enabled) log('acquire %j after %d ms, %d attempt(s)%s', name, waitedMs, attempts, token === undefined ? '' : `, token ${token}`);
};

/** `channel` was released after being held `heldMs`. */
export const publishRelease = (name: string, heldMs: number): void => {
  if (releaseChannel.hasSubscribers) releaseChannel.publish({ channel: name, heldMs });
  if (log.enabled) log('release %j after %d ms held', name, heldMs);
};

/** A held lock was lost. */
export const publishLost = (name: string, error: unknown): void => {
  if (lostChannel.hasSubscribers) lostChannel.publish({ channel: name, error });
  if (log.enabled) log('lost %j: %s', name, (error as Error | null)?.message ?? String(error));
};

/** A wait for `channel` ended by its deadline. */
export const publishTimeout = (name: string, waitedMs: number): void => {
  if (timeoutChannel.hasSubscribers) timeoutChannel.publish({ channel: name, waitedMs });
  if (log.enabled) log('timeout %j after %d ms', name, waitedMs);
};
