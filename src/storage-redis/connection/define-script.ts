import type { RedisClient } from '../options.js';

/** A value a script gets in KEYS or ARGV. */
export type ScriptArg = string | number;

type Runner = (...args: ScriptArg[]) => Promise<number>;

/** Runs a script on `client`: its keys, then its ARGV. */
export type Script<Args extends ScriptArg[]> = (client: RedisClient, keys: readonly string[], ...args: Args) => Promise<number>;

/**
 * A Lua script over `numberOfKeys` keys, defined on a client under `name` at its first use there
 * (ioredis runs it by EVALSHA, falling back to EVAL). The runner takes the keys, then `Args` (ARGV).
 */
export const defineScript =
  <Args extends ScriptArg[]>(name: string, numberOfKeys: number, lua: string): Script<Args> =>
  (client, keys, ...args) => {
    const commands = client as unknown as Record<string, Runner | undefined>;
    if (typeof commands[name] !== 'function') client.defineCommand(name, { numberOfKeys, lua });
    return (commands[name] as Runner).call(client, ...keys, ...args);
  };
