/**
 * `lockerOptions` that proper-lockfile would change or the adapter would ignore are refused with a
 * TypeError that says why (issue 14): the lease is what the options say, or the adapter does not start.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { FileStorageAdapter } from '../../src/storage-file/index.js';
import { cleanup, tempDir } from './helpers.js';

afterAll(cleanup);

const make = (lockerOptions: object) => () => new FileStorageAdapter({ directory: tempDir('lease-options'), lockerOptions: lockerOptions as never });
const refused = (option: string, message: RegExp) =>
  expect.objectContaining({ name: 'TypeError', code: 'ERR_ATOMIZE_INVALID_OPTION', option, message: expect.stringMatching(message) as unknown });

describe('FileStorageAdapter lockerOptions', () => {
  it('refuses a `stale` below proper-lockfile\'s 2000 ms, which it would raise silently', () => {
    expect(make({ stale: 1999 })).toThrow(refused('lockerOptions.stale', /^FileStorageAdapter: invalid option `lockerOptions\.stale` 1999: expected at least 2000 ms/));
    expect(make({ stale: 500, update: 1000 })).toThrow(refused('lockerOptions.stale', /at least 2000 ms/));
    expect(make({ stale: 2000 })).not.toThrow();
  });

  it('refuses an `update` outside 1000 ms to half of `stale`, which it would clamp silently', () => {
    expect(make({ update: 999 })).toThrow(refused('lockerOptions.update', /expected from 1000 ms to half of `stale` \(2500 ms\)/));
    expect(make({ update: 2501 })).toThrow(refused('lockerOptions.update', /half of `stale` \(2500 ms\)/));
    expect(make({ stale: 2000, update: 1001 })).toThrow(refused('lockerOptions.update', /half of `stale` \(1000 ms\)/));
    expect(make({ update: 2500 })).not.toThrow();
    expect(make({ stale: 20_000, update: 5000 })).not.toThrow();
  });

  it.each([
    ['retries', 3, /each lock attempt is a single try, and `atomize` does the waiting/],
    ['realpath', true, /resolves `directory` once/],
    ['lockfilePath', '/tmp/x.lock', /its own path in `<directory>\/locks\/`/],
    ['onCompromised', () => undefined, /LockLostError/],
  ])('refuses `%s`, which the adapter sets itself, saying why', (name, value, why) => {
    expect(make({ [name]: value })).toThrow(
      refused(`lockerOptions.${name}`, new RegExp(`^FileStorageAdapter: option \`lockerOptions\\.${name}\` cannot be set, the adapter sets it: .*${why.source}`)),
    );
  });
});
