/** The helpers both adapters' `inspect()` share: the channel check and the reading of a stored token. */
import { describe, expect, it } from 'vitest';
import { InvalidChannelError } from '../../src/shared/errors.js';
import { inspectable, tokenOf } from '../../src/shared/inspection.js';

describe('inspectable', () => {
  it('passes a non-empty string through, whatever its characters', () => {
    expect(inspectable('stock:42')).toBe('stock:42');
    expect(inspectable(' ')).toBe(' ');
    expect(inspectable('../x\n')).toBe('../x\n');
  });

  it.each([[''], [undefined], [null], [42], [['a']], [{}]])('refuses %j with InvalidChannelError', (channel) => {
    expect(() => inspectable(channel)).toThrow(InvalidChannelError);
  });
});

describe('tokenOf', () => {
  it('reads a safe integer as a number, trimmed', () => {
    expect(tokenOf('1796030217992000')).toBe(1796030217992000);
    expect(tokenOf(' 7\n')).toBe(7);
    expect(tokenOf('0')).toBe(0);
  });

  it('keeps a larger integer as its decimal text', () => {
    expect(tokenOf('99999999999999999999')).toBe('99999999999999999999');
    expect(tokenOf('9007199254740992')).toBe('9007199254740992');
    expect(tokenOf('9007199254740991')).toBe(9007199254740991);
  });

  it.each([[null], [undefined], [''], ['  '], ['-5'], ['1.5'], ['12abc'], ['abc12'], ['1e6'], ['0x10']])('has no token for %j', (text) => {
    expect(tokenOf(text)).toBeUndefined();
  });
});
