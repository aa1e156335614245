import { describe, expect, it } from 'vitest';
import { InvalidFencingTokenError } from '../../src/shared/errors.js';
import { formatFencingHeader, parseFencingHeader, toFencingToken } from '../../src/shared/fencing-header.js';

describe('the fencing header', () => {
  it('carries one channel as its bare token, several as channel=token pairs with encoded names', () => {
    expect(formatFencingHeader([['stock', 42]])).toBe('42');
    expect(formatFencingHeader([['orders', 42], ['stock', 7]])).toBe('orders=42, stock=7');
    expect(formatFencingHeader([['a b', 1], ['x=y,z', 2]])).toBe('a%20b=1, x%3Dy%2Cz=2');
  });

  it('reads back what it writes', () => {
    expect(parseFencingHeader('42')).toEqual([{ token: 42n }]);
    expect(parseFencingHeader(' 42 ')).toEqual([{ token: 42n }]);
    expect(parseFencingHeader(formatFencingHeader([['a b', 1], ['x=y,z', 2]]))).toEqual([
      { channel: 'a b', token: 1n },
      { channel: 'x=y,z', token: 2n },
    ]);
    expect(parseFencingHeader('orders= 9007199254740993 ,stock=0')).toEqual([
      { channel: 'orders', token: 9007199254740993n },
      { channel: 'stock', token: 0n },
    ]);
  });

  it.each([
    ['not a string', 42],
    ['empty', ''],
    ['blank', '   '],
    ['not digits', 'abc'],
    ['a negative number', '-1'],
    ['a fraction', '1.5'],
    ['digits then more', '12abc'],
    ['more then digits', 'abc12'],
    ['a pair without a channel', '=5'],
    ['a pair without a token', 'stock='],
    ['a pair with a bad token', 'stock=x'],
    ['one good pair and one bad', 'a=1, b=two'],
    ['a channel that does not decode', '%E0%A4%A=1'],
  ])('refuses a header that is %s with InvalidFencingTokenError', (_what, value) => {
    expect(() => parseFencingHeader(value)).toThrow(InvalidFencingTokenError);
  });

  it('takes tokens as decimal strings, non-negative safe integers or non-negative bigints', () => {
    expect(toFencingToken('0')).toBe(0n);
    expect(toFencingToken(' 17 ')).toBe(17n);
    expect(toFencingToken(Number.MAX_SAFE_INTEGER)).toBe(BigInt(Number.MAX_SAFE_INTEGER));
    expect(toFencingToken(0)).toBe(0n);
    expect(toFencingToken(12n)).toBe(12n);
    expect(toFencingToken(0n)).toBe(0n);
    for (const bad of [-1, 1.5, Number.MAX_SAFE_INTEGER + 1, Number.NaN, -1n, '', '1e3', '0x10', null, undefined, {}]) {
      const error = (() => {
        try {
          toFencingToken(bad);
        } catch (e) {
          return e;
        }
      })();
      expect(error, String(bad)).toBeInstanceOf(InvalidFencingTokenError);
      expect(error).toMatchObject({ code: 'ERR_ATOMIZE_INVALID_FENCING_TOKEN', token: bad });
    }
  });
});
