import { describe, expect, it } from 'vitest';
import { ATOMIZE_DEFAULTS, atomize, LockerMissingError } from '../../src/server/index.js';
import { resolveOptions } from '../../src/server/options.js';
import { alovaWith } from '../helpers/alova.js';
import { MemoryLocker } from '../helpers/memory-locker.js';

describe('atomize options', () => {
  it("uses alova's documented defaults", () => {
    expect(ATOMIZE_DEFAULTS).toEqual({ channel: 'default', timeout: 5000, interval: 100, queue: true, releaseOnResponse: false });
    expect(Object.isFrozen(ATOMIZE_DEFAULTS)).toBe(true);
    expect(resolveOptions()).toEqual({ channels: ['default'], timeout: 5000, interval: 100, queue: true, releaseOnResponse: false });
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
    ['releaseOnResponse', 1],
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

  it.each([
    [{ channel: [] }, 'atomize: invalid option `channel` array(0): expected a non-empty string or a non-empty array of them', []],
    [{ channel: ['a', 7] }, 'atomize: invalid option `channel` 7: expected a non-empty string', 7],
    [{ timeout: -1 }, 'atomize: invalid option `timeout` -1: expected a number of milliseconds from 0 to 2147483647 (about 24.8 days)', -1],
    [{ timeout: Number.MAX_SAFE_INTEGER }, 'atomize: invalid option `timeout` 9007199254740991: expected a number of milliseconds from 0 to 2147483647 (about 24.8 days)', Number.MAX_SAFE_INTEGER],
    [{ interval: 0 }, 'atomize: invalid option `interval` 0: expected a positive number of milliseconds up to 2147483647', 0],
    [{ queue: 1 }, 'atomize: invalid option `queue` 1: expected true or false', 1],
    [{ fencingHeader: 'x token' }, 'atomize: invalid option `fencingHeader` "x token": expected an HTTP header name', 'x token'],
    [{ beforeSend: 'later' }, 'atomize: invalid option `beforeSend` "later": expected a function', 'later'],
    [null, 'atomize: invalid option `options` null: expected an object', null],
    ['fast', 'atomize: invalid option `options` "fast": expected an object', 'fast'],
  ])('explains what it expected: %o', (options, message, value) => {
    let thrown: any;
    try {
      resolveOptions(options as never);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    expect(thrown.message).toBe(message);
    expect(thrown.code).toBe('ERR_ATOMIZE_INVALID_OPTION');
    expect(thrown.value).toEqual(value);
  });

  it('keeps every option it was given', () => {
    expect(resolveOptions({ channel: 'only', timeout: 1, interval: 2, queue: false, releaseOnResponse: true })).toEqual({
      channels: ['only'],
      timeout: 1,
      interval: 2,
      queue: false,
      releaseOnResponse: true,
    });
  });

  it('accepts the longest timer Node.js has (2147483647 ms) and refuses one more; names atomize in an unknown option', () => {
    expect(resolveOptions({ timeout: 2147483647, interval: 2147483647 })).toMatchObject({ timeout: 2147483647, interval: 2147483647 });
    expect(() => resolveOptions({ timeout: 2147483648 })).toThrow(/`timeout` 2147483648/);
    expect(() => resolveOptions({ interval: 2147483648 })).toThrow(/`interval` 2147483648/);
    expect(() => resolveOptions({ chanel: 'x' } as never)).toThrow(/^atomize: unknown option `chanel`/);
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

describe('unknown option names', () => {
  it.each([
    [{ chanel: 'orders' }, 'chanel', 'channel'],
    [{ timout: 10 }, 'timout', 'timeout'],
    [{ fencingheader: 'x' }, 'fencingheader', 'fencingHeader'],
    [{ channel: 'a', retries: 3 }, 'retries', undefined],
  ])('%o is a TypeError naming the option and the closest known one', (options, option, suggestion) => {
    let thrown: any;
    try {
      resolveOptions(options as never);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    expect(thrown).toMatchObject({ code: 'ERR_ATOMIZE_INVALID_OPTION', option });
    expect(thrown.suggestion).toBe(suggestion);
    expect(thrown.message).toContain(`unknown option \`${option}\``);
    expect(thrown.message).toContain(suggestion ? `Did you mean \`${suggestion}\`?` : 'Known options: `channel`');
  });
});
