import { describe, expect, it } from 'vitest';
import { ATOMIZE_DEFAULTS, atomize, LockerMissingError } from '../../src/server/index.js';
import { resolveOptions } from '../../src/server/options.js';
import { alovaWith } from '../helpers/alova.js';
import { MemoryLocker } from '../helpers/memory-locker.js';

describe('atomize options', () => {
  it("uses alova's documented defaults", () => {
    expect(ATOMIZE_DEFAULTS).toEqual({ channel: 'default', timeout: 5000, interval: 100, queue: true });
    expect(Object.isFrozen(ATOMIZE_DEFAULTS)).toBe(true);
    expect(resolveOptions()).toEqual({ channels: ['default'], timeout: 5000, interval: 100, queue: true });
  });

  it('de-duplicates and sorts channels', () => {
    expect(resolveOptions({ channel: ['b', 'a', 'b'] }).channels).toEqual(['a', 'b']);
    expect(resolveOptions({ channel: ['a', 'a'] }).channels).toEqual(['a']);
  });

  it.each([
    ['channel', ''],
    ['channel', 42],
    ['channel', []],
    ['channel', ['a', '']],
    ['channel', ['a', null]],
    ['timeout', -1],
    ['timeout', Number.NaN],
    ['timeout', Number.POSITIVE_INFINITY],
    ['timeout', '100'],
    ['interval', 0],
    ['interval', -5],
    ['interval', Number.NaN],
    ['interval', Number.POSITIVE_INFINITY],
    ['queue', 'yes'],
  ])('throws a TypeError naming %s for %o', (option, value) => {
    const alova = alovaWith('http://127.0.0.1:9', new MemoryLocker());
    let thrown: any;
    try {
      atomize(alova.Get('/x'), { [option]: value });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    expect(thrown.code).toBe('ERR_ATOMIZE_INVALID_OPTION');
    expect(thrown.option).toBe(option);
    expect(thrown.message).toContain(`\`${option}\``);
  });

  it('accepts timeout 0 (a single attempt)', () => {
    expect(resolveOptions({ timeout: 0 }).timeout).toBe(0);
  });

  it('throws at once, naming the adapters, when l2Cache has no locker', () => {
    const alova = alovaWith('http://127.0.0.1:9', undefined);
    expect(() => atomize(alova.Get('/x'))).toThrow(LockerMissingError);
    expect(() => atomize(alova.Get('/x'))).toThrow(/storage-redis.*storage-file/);
  });

  it('throws a TypeError when the first argument is not a method', () => {
    expect(() => atomize({} as never)).toThrow(TypeError);
  });
});
