/** Where a fence guard keeps the highest token admitted per resource: this process, or one Redis. */
import type { Cluster, Redis } from 'ioredis';

export interface FenceStore {
  /** Records `token` for `resource` and resolves true when it is at least the highest recorded; else false. */
  admit(resource: string, token: bigint): Promise<boolean>;
}

/** In this process only. */
export const memoryStore = (): FenceStore => {
  const highest = new Map<string, bigint>();
  return {
    admit: async (resource, token) => {
      const seen = highest.get(resource);
      if (seen !== undefined && token < seen) return false;
      highest.set(resource, token);
      return true;
    },
  };
};

/**
 * Compare-and-record in one script, so that several instances of the upstream share one sequence per
 * resource. Tokens are compared as decimal strings (length, then digits): exact at any size.
 */
const ADMIT = `
local key, token = KEYS[1], ARGV[1]
local seen = redis.call('GET', key)
if seen and (#seen > #token or (#seen == #token and seen > token)) then return 0 end
redis.call('SET', key, token)
return 1
`;
const SCRIPT = 'alovaAtomizeFenceAdmit';

/** Resource names are user data: `%`, `{` and `}` are encoded, so the mapping is one-to-one and picks no hash tag. */
const encode = (name: string): string => name.replace(/[%{}]/g, (c) => (c === '%' ? '%25' : c === '{' ? '%7B' : '%7D'));

export const redisStore = (client: Redis | Cluster, keyPrefix: string): FenceStore => {
  const commands = client as unknown as Record<string, ((key: string, token: string) => Promise<number>) | undefined>;
  if (typeof commands[SCRIPT] !== 'function') client.defineCommand(SCRIPT, { numberOfKeys: 1, lua: ADMIT });
  return {
    admit: async (resource, token) => (await commands[SCRIPT]!.call(client, `${keyPrefix}${encode(resource)}`, token.toString())) === 1,
  };
};
