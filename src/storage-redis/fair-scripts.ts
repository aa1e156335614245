import type { RedisClient } from './options.js';

/**
 * Fair handoff on one server or one cluster slot. KEYS: the lock, the channel's line (a sorted set of
 * waiter tokens by arrival). The lock's value is its holder's token (a waiter's token is its ticket id).
 *
 * Acquire (ARGV: db or '' for the connection's own, token, lease ms, line ttl ms, pub/sub channel or '', 1 to queue up): 1 when the
 * lock is (now) the caller's: it was handed to it, or it is free and nobody queued earlier. When it is
 * free but someone queued earlier, it is handed to that waiter (who may have died: then the lock ends
 * by its lease) and the caller queues up. 0 otherwise.
 */
const ACQUIRE = `
if ARGV[1] ~= '' then redis.pcall('SELECT', tonumber(ARGV[1])) end
local current = redis.call('GET', KEYS[1])
if current == ARGV[2] then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 1
end
if not current then
  local head = redis.call('ZPOPMIN', KEYS[2])[1]
  if not head or head == ARGV[2] then
    redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
    return 1
  end
  redis.call('SET', KEYS[1], head, 'PX', ARGV[3])
  if ARGV[5] ~= '' then redis.call('PUBLISH', ARGV[5], 'grant:' .. head) end
end
if ARGV[6] == '1' then
  local now = redis.call('TIME')
  redis.call('ZADD', KEYS[2], 'NX', now[1] * 1000000 + now[2], ARGV[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[4])
end
return 0
`;

/**
 * Release, or leave the line (ARGV: db or '', token, lease ms, pub/sub channel or ''): drops the token from
 * the line; when the lock is the token's, hands it to the first waiter in line (publishing
 * `grant:<token>`) or deletes it (publishing `free:<token>`). 1 when the lock was the token's.
 */
const RELEASE = `
if ARGV[1] ~= '' then redis.pcall('SELECT', tonumber(ARGV[1])) end
redis.call('ZREM', KEYS[2], ARGV[2])
if redis.call('GET', KEYS[1]) ~= ARGV[2] then return 0 end
local head = redis.call('ZPOPMIN', KEYS[2])[1]
if head then
  redis.call('SET', KEYS[1], head, 'PX', ARGV[3])
  if ARGV[4] ~= '' then redis.call('PUBLISH', ARGV[4], 'grant:' .. head) end
else
  redis.call('DEL', KEYS[1])
  if ARGV[4] ~= '' then redis.call('PUBLISH', ARGV[4], 'free:' .. ARGV[2]) end
end
return 1
`;

type Script = (...args: Array<string | number>) => Promise<number>;

const run = (client: RedisClient, name: string, lua: string, args: Array<string | number>): Promise<number> => {
  const commands = client as unknown as Record<string, Script | undefined>;
  if (typeof commands[name] !== 'function') client.defineCommand(name, { numberOfKeys: 2, lua });
  return (commands[name] as Script).apply(client, args);
};

export interface FairKeys {
  readonly lock: string;
  readonly line: string;
  /** Pub/sub channel of the lock's notifications, or '' for none. */
  readonly pub: string;
}

export const fairAcquire = (client: RedisClient, keys: FairKeys, db: number | '', token: string, ttl: number, lineTtl: number, queue: boolean) =>
  run(client, 'alovaAtomizeFairAcquire', ACQUIRE, [keys.lock, keys.line, db, token, ttl, lineTtl, keys.pub, queue ? 1 : 0]);

export const fairRelease = (client: RedisClient, keys: FairKeys, db: number | '', token: string, ttl: number) =>
  run(client, 'alovaAtomizeFairRelease', RELEASE, [keys.lock, keys.line, db, token, ttl, keys.pub]);
