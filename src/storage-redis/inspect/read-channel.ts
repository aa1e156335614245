import { fenceKey, lockKey } from '../cache/keys.js';
import type { Link } from '../connection/link.js';
import { within } from '../connection/within.js';

/** One server's view of a channel. */
export interface Reading {
  /** The lock's value, or null when the key is absent. */
  readonly holder: string | null;
  /** The lock key's TTL in ms (Redis PTTL: -2 absent, -1 no expiry). */
  readonly ttl: number;
  /** Tickets in the channel's fair line. */
  readonly waiters: number;
  /** The last fencing token given, as stored, or null. */
  readonly token: string | null;
}

/**
 * Reads a channel's lock, line and fence in one script, so that the values belong to one moment; it
 * writes nothing. The locks' database is selected inside the script (as the lock scripts do), which
 * leaves the connection's own database alone. Sent with EVAL: nothing is defined on the client.
 *
 * The lock is read by its type: a string holds its holder's token (Redlock, a quorum); a list holds its
 * holder first, then the tickets waiting behind it (one server or a cluster). The fence is a counter,
 * the last token given.
 */
const READ = `
redis.pcall('SELECT', tonumber(ARGV[1]))
local lockKey, fenceKey = KEYS[1], KEYS[2]
local function kind(key) return redis.call('TYPE', key)['ok'] end
local holder, waiters, token = false, 0, false
local lock = kind(lockKey)
if lock == 'string' then
  holder = redis.call('GET', lockKey)
elseif lock == 'list' then
  holder = redis.call('LINDEX', lockKey, 0)
  waiters = redis.call('LLEN', lockKey) - 1
end
if kind(fenceKey) == 'string' then token = redis.call('GET', fenceKey) end
return { holder, redis.call('PTTL', lockKey), waiters, token }
`;

/** Reads `channel` on `link`'s server, in database `db`, bounded by `ms`. */
export const readChannel = async (link: Link, prefix: string, channel: string, db: number, ms: number): Promise<Reading> => {
  const keys = [lockKey(prefix, channel), fenceKey(prefix, channel)];
  const reply = (await within(link.client.eval(READ, keys.length, ...keys, db), ms)) as [string | null, number, number, string | null];
  const [holder, ttl, waiters, token] = reply;
  return { holder: holder ?? null, ttl: Number(ttl), waiters: Number(waiters), token: token ?? null };
};
