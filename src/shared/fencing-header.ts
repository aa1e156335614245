/**
 * The fencing header's value: the token of a call's one channel as a decimal string (`"42"`), or for
 * several channels `channel=token` pairs in the call's (sorted) channel order, the channel names
 * percent-encoded (`"orders=42, stock=7"`).
 */
import { InvalidFencingTokenError } from './errors.js';

/** One channel's token, as the header carries it. */
export interface FencingEntry {
  /** The channel; absent when the header carries a single token. */
  readonly channel?: string;
  readonly token: bigint;
}

export const formatFencingHeader = (tokens: ReadonlyArray<readonly [channel: string, token: number]>): string =>
  tokens.length === 1 ? String(tokens[0]![1]) : tokens.map(([channel, token]) => `${encodeURIComponent(channel)}=${token}`).join(', ');

const DIGITS = /^\d+$/;

/** A token as a bigint: a decimal string of digits, a non-negative safe integer or a non-negative bigint. */
export const toFencingToken = (value: unknown): bigint => {
  if (typeof value === 'bigint' && value >= 0n) return value;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  if (typeof value === 'string' && DIGITS.test(value.trim())) return BigInt(value.trim());
  throw new InvalidFencingTokenError(value);
};

const decoded = (text: string): string => {
  try {
    return decodeURIComponent(text);
  } catch {
    return '';
  }
};

/** Reads a fencing header's value; a value that holds no valid token throws `InvalidFencingTokenError`. */
export const parseFencingHeader = (value: unknown): FencingEntry[] => {
  if (typeof value !== 'string' || value.trim() === '') throw new InvalidFencingTokenError(value);
  if (!value.includes('=')) return [{ token: toFencingToken(value) }];
  return value.split(',').map((part) => {
    const at = part.indexOf('=');
    const channel = at > 0 ? decoded(part.slice(0, at).trim()) : '';
    if (!channel) throw new InvalidFencingTokenError(value);
    return { channel, token: toFencingToken(part.slice(at + 1)) };
  });
};
