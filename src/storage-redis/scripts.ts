import type { RedisClient } from './options.js';

const RELEASE = 'alovaAtomizeRelease';

/**
 * Release in one round trip: deletes the key only when it still holds this holder's value, then (when
 * a notification channel is given) publishes the value there. An expired key counts as released
 * (returns 1 and notifies); a key held by someone else is left alone (returns 0, no notification).
 * Locks live in the database Redlock selects, so the script selects it too (ignored on a cluster).
 */
const RELEASE_LUA = `
redis.pcall('SELECT', tonumber(ARGV[1]))
local current = redis.call('GET', KEYS[1])
if current and current ~= ARGV[2] then return 0 end
if current then redis.call('DEL', KEYS[1]) end
if ARGV[3] ~= '' then redis.call('PUBLISH', ARGV[3], ARGV[2]) end
return 1
`;

type Release = (key: string, db: number, value: string, channel: string) => Promise<number>;

/** Runs the release script on `client` (defining it there on first use: EVALSHA, falling back to EVAL). */
export const releaseOn = (client: RedisClient, key: string, db: number, value: string, channel: string): Promise<number> => {
  const commands = client as unknown as Record<string, Release | undefined>;
  if (typeof commands[RELEASE] !== 'function') client.defineCommand(RELEASE, { numberOfKeys: 1, lua: RELEASE_LUA });
  return (commands[RELEASE] as Release).call(client, key, db, value, channel);
};
