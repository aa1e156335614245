import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidFencingTokenError } from '../shared/errors.js';
import { parseFencingHeader } from '../shared/fencing-header.js';
import { refuseUnknownOptions } from '../shared/known-options.js';
import type { FenceGuard } from './guard.js';

/** Options of {@link fenceRequests}. */
export interface FenceRequestsOptions {
  /** The header atomize's `fencingHeader` writes. @default 'x-fencing-token' */
  header?: string;
  /**
   * The resource a request's token is checked against: the lock channel's counterpart at this service.
   * Called once per token; `channel` is set when the header names channels (a call on several).
   */
  resource: (req: IncomingMessage, channel: string | undefined) => string;
}

const answer = (res: ServerResponse, status: number, error: string): false => {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ error }));
  return false;
};

/**
 * A node:http / Express-style check: `await check(req, res, next?)`. Every token of the request's
 * fencing header must be admitted by `guard`; then `next()` is called (when given) and it resolves
 * true. Otherwise it answers and resolves false: 409 for a stale token, 400 for a malformed header,
 * 428 for a missing one.
 */
export const fenceRequests = (guard: FenceGuard, options: FenceRequestsOptions) => {
  refuseUnknownOptions('fenceRequests', options, ['header', 'resource']);
  const header = (options.header ?? 'x-fencing-token').toLowerCase();
  if (typeof options.resource !== 'function') throw Object.assign(new TypeError('fenceRequests: `resource` must be a function'), { code: 'ERR_ATOMIZE_INVALID_OPTION' });
  return async (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): Promise<boolean> => {
    const value = req.headers[header];
    if (value === undefined) return answer(res, 428, `missing ${header} header`);
    let entries;
    try {
      entries = parseFencingHeader(Array.isArray(value) ? value.join(', ') : value);
    } catch (error) {
      if (error instanceof InvalidFencingTokenError) return answer(res, 400, error.message);
      throw error;
    }
    for (const { channel, token } of entries) {
      if (!(await guard.admit(options.resource(req, channel), token))) return answer(res, 409, 'stale fencing token: a newer lock holder has been admitted');
    }
    next?.();
    return true;
  };
};
