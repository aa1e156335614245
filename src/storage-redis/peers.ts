/**
 * ioredis and @sesamecare-oss/redlock, loaded when the first `RedisStorageAdapter` is made, never
 * when the package is loaded: the root entry and the file adapter work without ioredis installed
 * (it is an optional peer). Both are CommonJS, so both builds load them with `require`, synchronously.
 */
import { createRequire } from 'node:module';
import type * as IORedis from 'ioredis';
import type * as RedlockModule from '@sesamecare-oss/redlock';
import { LockerConfigError } from '../shared/errors.js';

export interface Peers {
  readonly ioredis: typeof IORedis;
  readonly redlock: typeof RedlockModule;
}

let peers: Peers | undefined;

/** True when `error` says that `name` itself (not something it requires) cannot be found. */
const isMissing = (error: unknown, name: string): boolean => {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === 'MODULE_NOT_FOUND' && typeof message === 'string' && message.startsWith(`Cannot find module '${name}'`);
};

/**
 * Loads a peer module; a missing ioredis is a `LockerConfigError` that says to install it.
 * `from` is the module to resolve from (this file, so that the package's own peers are found).
 */
export const loadPeer = <T>(name: string, from: string | URL = import.meta.url): T => {
  try {
    return createRequire(from)(name) as T;
  } catch (error) {
    if (!isMissing(error, name)) throw error;
    throw new LockerConfigError(
      `RedisStorageAdapter needs the package ${name}, which is not installed: install it next to alova-atomize ` +
        `(npm install ${name}). Package managers that do not install peer dependencies (yarn 1, npm with legacy-peer-deps) leave it out`,
      error,
    );
  }
};

/** ioredis and Redlock, loaded at the first call (it throws, and is tried again next time, while ioredis is missing). */
export const redisPeers = (): Peers =>
  (peers ??= {
    ioredis: loadPeer<typeof IORedis>('ioredis'),
    redlock: loadPeer<typeof RedlockModule>('@sesamecare-oss/redlock'),
  });
