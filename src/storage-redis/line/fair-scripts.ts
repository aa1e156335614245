import { defineScript, type Script, type ScriptArg } from '../connection/define-script.js';
import type { RedisClient } from '../options.js';

/**
 * The fair line's scripts, on one server or one cluster slot. A channel has two keys:
 *
 * - its **lock**, a list: the holder's ticket first, then the waiting tickets in arrival order. The
 *   key's TTL is the holder's lease, or, while the lock is handed to a waiter that has not confirmed
 *   it yet, that waiter's liveness window. The line lives and dies with the lock: when a holder's
 *   lease runs out unrenewed, its waiters' places go with it, and they join again at their next try.
 *   (A plain string value in the key is a holder of another kind, e.g. a quorum or an older copy of
 *   this package: the key is then held, and these scripts leave it alone.)
 * - its **fence**, a counter: the last fencing token given. When missing (expired a day after it was
 *   seeded, or lost in a restart) it is seeded from the clock, `TIME` in µs: every token is then above
 *   every earlier one, as long as the clock does not go back.
 *
 * A ticket (list member) is `tag|window|id`: `tag` names the pub/sub channel of its process's
 * subscriber (`p` for a process that polls), `window` its liveness window in ms. Serving the line
 * announces the grant on the grantee's process channel; Redis answers how many subscribers got it, so
 * a ticket whose process has died (its connection is gone) is dropped at once and the next one served,
 * in the same pass. A grantee that is alive but stalls lets the grant (and the line) run out after its
 * window. Nothing in the line needs a waiter to keep trying to stay alive.
 *
 * Notifications are published with `redis.pcall`; a failure (a user without permission on the channel)
 * counts the grantee as alive, and loses only the notification: waiters still try now and then. The
 * script names carry a version: a client shared with an older copy of this package runs ours.
 */

/** Lua shared by the scripts: named locals, errors, tokens. */
const PRELUDE = `
local lockKey, fenceKey = KEYS[1], KEYS[2]
if ARGV[1] ~= '' then redis.pcall('SELECT', tonumber(ARGV[1])) end
-- True when a reply failed because the key holds a value of another type (for the lock: a holder of
-- another kind); any other failure (a refused permission, say) is raised as it is.
local function otherType(reply)
  if type(reply) ~= 'table' or reply.err == nil then return false end
  if string.find(reply.err, 'WRONGTYPE', 1, true) or string.find(reply.err, 'not an integer', 1, true) then return true end
  error(reply)
end

-- The next fencing token: one INCR, seeded from the clock when the counter is missing (or of an older format).
local function issue()
  local token = redis.pcall('INCR', fenceKey)
  if otherType(token) or token < 1000000000000000 then
    local clock = redis.call('TIME')
    token = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
    redis.call('SET', fenceKey, string.format('%.0f', token), 'PX', 86400000)
  end
  return token
end
`;

/**
 * One attempt. ARGV: db or '', ticket, lease ms, mode ('0' take only if free, '1' first try of a
 * wait: join, '2' later try: confirm a grant, or join again when the line was lost). Returns the
 * caller's fencing token (> 0) when the lock is now the caller's under its own lease; the caller's
 * place behind the holder, negated (< 0), when it waits in line; 0 when it is not in line (a holder
 * of another kind, or mode '0').
 */
const ACQUIRE = `${PRELUDE}
local ticket, lease, mode = ARGV[2], ARGV[3], ARGV[4]
-- The caller is first in the list: the lock is its own, under its own lease, with a new token.
local function hold()
  redis.call('PEXPIRE', lockKey, lease)
  return issue()
end
if mode == '2' then
  local place = redis.pcall('LPOS', lockKey, ticket)
  if otherType(place) then return 0 end
  if place == 0 then return hold() end
  if place then return -place end
elseif mode == '0' and redis.call('EXISTS', lockKey) == 1 then
  return 0
end
local length = redis.pcall('RPUSH', lockKey, ticket)
if otherType(length) then return 0 end
if length == 1 then return hold() end
return 1 - length
`;

/**
 * Release, or leave the line. ARGV: db or '', ticket, pub/sub channel of the lock or '', prefix of the
 * process channels or '', '1' when a PUBLISH's count of receivers can be trusted (one server). Takes
 * the ticket out of the line; when it held the lock, hands it to the first live waiter or, with none
 * left, deletes it (the list's end) and publishes `free:<ticket>`. 1 when the lock was the ticket's.
 */
const RELEASE = `${PRELUDE}
local ticket, pub, procs, counted = ARGV[2], ARGV[3], ARGV[4], ARGV[5] == '1'
local firstTwo = redis.pcall('LRANGE', lockKey, 0, 1)
if otherType(firstTwo) then return 0 end
if firstTwo[1] ~= ticket then
  if firstTwo[1] then redis.call('LREM', lockKey, 1, ticket) end
  return 0
end
redis.call('LPOP', lockKey)
local head = firstTwo[2]
while head do
  local tag, window, id = string.match(head, '^([^|]*)|(%d+)|(.*)$')
  local alive = true
  if tag and tag ~= 'p' and procs ~= '' then
    local heard = redis.pcall('PUBLISH', procs .. tag, head .. '\\n' .. lockKey)
    alive = not counted or type(heard) ~= 'number' or heard > 0
    -- Refused (no permission on the grant channels): say it where the waiter may still hear it.
    if type(heard) ~= 'number' and pub ~= '' then redis.pcall('PUBLISH', pub, 'grant:' .. (id or head)) end
  elseif pub ~= '' then
    redis.pcall('PUBLISH', pub, 'grant:' .. (id or head))
  end
  if alive then
    redis.call('PEXPIRE', lockKey, math.max(1, tonumber(window) or 1000))
    return 1
  end
  redis.call('LPOP', lockKey)
  head = redis.call('LINDEX', lockKey, 0)
end
if pub ~= '' then redis.pcall('PUBLISH', pub, 'free:' .. ticket) end
return 1
`;

/** Renewal. ARGV: db or '', ticket, lease ms. 1 when the ticket holds the lock (its lease is renewed), else 0. */
const EXTEND = `${PRELUDE}
local ticket, lease = ARGV[2], ARGV[3]
local head = redis.pcall('LINDEX', lockKey, 0)
if otherType(head) or head ~= ticket then return 0 end
redis.call('PEXPIRE', lockKey, lease)
return 1
`;

/** The keys of one channel's fair line, in the channel's slot, and its pub/sub channels. */
export interface FairKeys {
  /** The lock and its line (a list). */
  readonly lock: string;
  readonly fence: string;
  /** Pub/sub channel of the lock's notifications, or '' for none. */
  readonly pub: string;
  /** Prefix of the process channels that grants are announced on (the tag follows), or '' for none. */
  readonly procs: string;
}

/** A script over a channel's two keys; its first arg is the db to SELECT, or ''. */
const overFairKeys =
  <Args extends ScriptArg[]>(script: Script<[db: number | '', ...Args]>) =>
  (client: RedisClient, keys: FairKeys, db: number | '', ...args: Args): Promise<number> =>
    script(client, [keys.lock, keys.fence], db, ...args);

/** What a try asks: take only a free lock, join the line (first try), or confirm / rejoin (later tries). */
export type TryMode = '0' | '1' | '2';

/** Args: ticket, lease ms, mode. */
export const fairAcquire = overFairKeys(
  defineScript<[db: number | '', ticket: string, lease: number, mode: TryMode]>('alovaAtomizeFairAcquire6', 2, ACQUIRE),
);

/** Args: ticket, pub, process channel prefix, '1' when PUBLISH counts can be trusted. */
export const fairRelease = overFairKeys(
  defineScript<[db: number | '', ticket: string, pub: string, procs: string, counted: '1' | '0']>('alovaAtomizeFairRelease6', 2, RELEASE),
);

/** Args: ticket, lease ms. */
export const fairExtend = overFairKeys(defineScript<[db: number | '', ticket: string, lease: number]>('alovaAtomizeFairExtend6', 2, EXTEND));
