import { LockerConfigError } from '../../shared/errors.js';
import type { RedisClient } from '../options.js';
import type { Link } from './link.js';

/** Voters after `redlockFilter`, one per client; the others that the adapter opened are closed. */
export const chooseVoters = (voters: Link[], keep: Link | undefined, filter: ((client: RedisClient) => boolean) | undefined, ms: number): Link[] => {
  const unique = voters.filter((voter, i) => voters.findIndex((other) => other.client === voter.client) === i);
  const chosen = filter ? unique.filter((voter) => filter(voter.client)) : unique;
  for (const voter of voters) if (voter !== keep && !chosen.includes(voter)) void voter.close(ms);
  if (chosen.length === 0) throw new LockerConfigError('RedisStorageAdapter: `redlockFilter` left no Redis server to lock on');
  return chosen;
};
