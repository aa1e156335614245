import { defineScript, type Script, type ScriptArg } from '../connection/define-script.js';
import type { RedisClient } from '../options.js';

/**
 * The fair line's scripts, on one server or one cluster slot. Keys of a channel: its lock (value: the
 * holder's token; a waiter's token is its ticket id), its line (sorted set of waiting tokens by
 * arrival, µs) and its roll (sorted set of waiting tokens by the time, ms, until which each counts
 * as alive: every attempt of a waiter moves it on), and its fence (a hash: the last fencing token
 * given, and to whom). Times are Redis' own clock (TIME).
 *
 * Serving the line hands a free lock to the first ticket that is still alive; dead tickets met on
 * the way are dropped, all in the same pass. The grant lasts only as long as the grantee counts as
 * alive: the grantee confirms it with its next attempt, which sets its own lease. A grantee that died
 * or stalls lets the grant run out after at most its liveness window, never a lease.
 *
 * Notifications are published with `redis.pcall`, their failure ignored: a user without permission
 * on the channel (Redis 7 gives new ACL users none) loses only the notification, never the release or
 * the grant already written (waiters poll anyway). The script names carry a version: a client shared
 * with an older copy of this package, which defined its own scripts under the older names, runs ours.
 *
 * Every grant (a free lock taken, or handed to a waiter) gets a fencing token, in the same script:
 * `max(last + 1, TIME in µs)`, so it is above every earlier token of the channel, also when the fence
 * was lost with every other key (a restart without persistence), as long as the clock does not go back.
 */

/** Lua shared by both scripts: named locals, the clock, and `serve`. */
const PRELUDE = `
local lockKey, lineKey, rollKey, fenceKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
if ARGV[1] ~= '' then redis.pcall('SELECT', tonumber(ARGV[1])) end
local clock = redis.call('TIME')
local nowMs = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local nowUs = tonumber(clock[1]) * 1000000 + tonumber(clock[2])

-- The first ticket in line that is still alive, and until when; dead tickets are dropped meanwhile.
local function firstAlive()
  redis.call('ZREMRANGEBYSCORE', rollKey, '-inf', nowMs)
  while true do
    local head = redis.call('ZRANGE', lineKey, 0, 0)[1]
    if not head then return nil, 0 end
    local aliveUntil = tonumber(redis.call('ZSCORE', rollKey, head))
    if aliveUntil and aliveUntil > nowMs then return head, aliveUntil end
    redis.call('ZREM', lineKey, head)
  end
end

-- The next fencing token of the channel, given to \`holder\`; the fence is kept a day after the last grant.
local function issue(holder)
  local token = math.max(tonumber(redis.call('HGET', fenceKey, 'last') or '0') + 1, nowUs)
  redis.call('HSET', fenceKey, 'last', string.format('%.0f', token), 'holder', holder)
  redis.call('PEXPIRE', fenceKey, 86400000)
  return token
end

-- The fencing token of the current holder \`holder\` (given at its grant; a new one if the fence was lost).
local function tokenOf(holder)
  if redis.call('HGET', fenceKey, 'holder') == holder then return tonumber(redis.call('HGET', fenceKey, 'last')) end
  return issue(holder)
end

-- Hands the free lock to waiter \`head\` until it stops counting as alive, with a token, and announces it.
local function grant(head, aliveUntil, pub)
  issue(head)
  redis.call('ZREM', lineKey, head)
  redis.call('SET', lockKey, head, 'PX', math.ceil(aliveUntil - nowMs))
  if pub ~= '' then redis.pcall('PUBLISH', pub, 'grant:' .. head) end
end
`;

/**
 * One attempt. ARGV: db or '', token, lease ms, line ttl ms, pub/sub channel or '', '1' to queue up,
 * liveness window ms. The caller's fencing token (> 0) when the lock is (now) the caller's under its own
 * lease: it was handed to it, or it is free and no live ticket is ahead of the caller. Otherwise 0: the
 * caller (when queuing) is in line, and counts as alive for the window; a free lock went to the first
 * live waiter.
 */
const ACQUIRE = `${PRELUDE}
local token, lease, lineTtl, pub, queue, window = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6] == '1', tonumber(ARGV[7])
local holder = redis.call('GET', lockKey)
if holder == token then
  redis.call('PEXPIRE', lockKey, lease)
  redis.call('ZREM', lineKey, token)
  redis.call('ZREM', rollKey, token)
  return tokenOf(token)
end
if queue then redis.call('ZADD', rollKey, nowMs + window, token) end
if not holder then
  local head, aliveUntil = firstAlive()
  if not head or head == token then
    redis.call('SET', lockKey, token, 'PX', lease)
    redis.call('ZREM', lineKey, token)
    redis.call('ZREM', rollKey, token)
    return issue(token)
  end
  grant(head, aliveUntil, pub)
end
if queue then
  -- The line and roll expire together, lineTtl after the last waiter joined (not after every attempt).
  if redis.call('ZADD', lineKey, 'NX', nowUs, token) == 1 then
    redis.call('PEXPIRE', lineKey, lineTtl)
    redis.call('PEXPIRE', rollKey, lineTtl)
  end
end
return 0
`;

/**
 * Release, or leave the line. ARGV: db or '', token, pub/sub channel or ''. Drops the token from the
 * line; when the lock is the token's, hands it to the first live waiter (`grant:<id>`) or deletes it
 * (`free:<token>`). 1 when the lock was the token's.
 */
const RELEASE = `${PRELUDE}
local token, pub = ARGV[2], ARGV[3]
redis.call('ZREM', lineKey, token)
redis.call('ZREM', rollKey, token)
if redis.call('GET', lockKey) ~= token then return 0 end
local head, aliveUntil = firstAlive()
if head then
  grant(head, aliveUntil, pub)
else
  redis.call('DEL', lockKey)
  if pub ~= '' then redis.pcall('PUBLISH', pub, 'free:' .. token) end
end
return 1
`;

/** The keys of one channel's fair line, all in the channel's slot. */
export interface FairKeys {
  readonly lock: string;
  readonly line: string;
  readonly roll: string;
  readonly fence: string;
  /** Pub/sub channel of the lock's notifications, or '' for none. */
  readonly pub: string;
}

/** A script over the four keys of a channel's fair line; its first arg is the db to SELECT, or ''. */
const overFairKeys =
  <Args extends ScriptArg[]>(script: Script<[db: number | '', ...Args]>) =>
  (client: RedisClient, keys: FairKeys, db: number | '', ...args: Args): Promise<number> =>
    script(client, [keys.lock, keys.line, keys.roll, keys.fence], db, ...args);

/** Args: token, lease ms, line ttl ms, pub, '1' or '0' (queue), liveness window ms. */
export const fairAcquire = overFairKeys(
  defineScript<[db: number | '', token: string, lease: number, lineTtl: number, pub: string, queue: '1' | '0', window: number]>(
    'alovaAtomizeFairAcquire5',
    4,
    ACQUIRE,
  ),
);

/** Args: token, pub. */
export const fairRelease = overFairKeys(defineScript<[db: number | '', token: string, pub: string]>('alovaAtomizeFairRelease5', 4, RELEASE));
