import type { Redlock } from '@sesamecare-oss/redlock';
import type { Link } from '../connection/link.js';
import type { RedisLockHandle } from './lock-handle.js';

/** What the locker, its handles and their leases share (data only). */
export interface LockContext {
  readonly redlock: Redlock;
  /** The servers (or clusters) that vote on every lock. */
  readonly voters: readonly Link[];
  /** Votes needed: a majority of the voters. */
  readonly quorum: number;
  /** Lease of a lock, ms. */
  readonly ttl: number;
  /** Bound of one command, ms. */
  readonly bound: number;
  /** The database Redlock keeps locks in. */
  readonly db: number;
  /** `db` for the fair scripts to SELECT, or '' when the (only) voter's connection already uses it. */
  readonly scriptDb: number | '';
  /** Publish on release. */
  readonly notify: boolean;
  /** Fair handoff (one voter only): see `FairLine`. */
  readonly fair: boolean;
  /** Handles not yet released, for `close()`. */
  readonly live: Set<RedisLockHandle>;
}
