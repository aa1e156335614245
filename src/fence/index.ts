export { createFenceGuard, type FenceGuard, type FenceGuardOptions } from './guard.js';
export { fenceRequests, type FenceRequestsOptions } from './middleware.js';
export { parseFencingHeader, toFencingToken, type FencingEntry } from '../shared/fencing-header.js';
export { InvalidFencingTokenError } from '../shared/errors.js';
export type { RedisClient } from '../storage-redis/types.js';
