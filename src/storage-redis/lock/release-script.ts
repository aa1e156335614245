import { defineScript } from '../connection/define-script.js';

/**
 * Release in one round trip: deletes the key only when it still holds this holder's value, then (when
 * a notification channel is given) publishes the value there. An expired key counts as released
 * (returns 1 and notifies); a key held by someone else is left alone (returns 0, no notification).
 * Locks live in the database Redlock selects, so the script selects it too (ignored on a cluster).
 * The notification is published with `redis.pcall`, its failure ignored: a user without permission on
 * the channel loses only the notification, not the release (waiters poll anyway).
 */
const RELEASE = `
local lockKey = KEYS[1]
local db, token, pub = ARGV[1], ARGV[2], ARGV[3]
redis.pcall('SELECT', tonumber(db))
local current = redis.call('GET', lockKey)
if current and current ~= token then return 0 end
if current then redis.call('DEL', lockKey) end
if pub ~= '' then redis.pcall('PUBLISH', pub, token) end
return 1
`;

/** Keys: the lock. Args: db, the holder's value, pub/sub channel or ''. */
export const releaseScript = defineScript<[db: number, token: string, pub: string]>('alovaAtomizeRelease2', 1, RELEASE);
