/**
 * Several processes that find one lock stale at once: at most one of them may take it over. Without
 * a guard, each removes "the stale lock", the later ones removing the fresh lock an earlier one had
 * just made, and two hold handles at once (the loser notices only about one `update` later). Real
 * processes and real files; their `stat` answers after random delays to widen the race window
 * (without the guard, about two rounds in three end with two holders).
 */
import { mkdirSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lockName } from '../../src/storage-file/cache/file-names.js';
import { cleanup, spawnFixture, tempDir } from './helpers.js';

afterAll(cleanup);

const CONTENDERS = 6;

describe('FileStorageAdapter: takeover of a stale lock', () => {
  it.each([1, 2, 3, 4])('round %i: one of six contenders takes it over, and nobody else holds it meanwhile', async () => {
    const directory = tempDir('takeover');
    const channel = 'stale';
    const lock = join(directory, 'locks', lockName(channel));
    mkdirSync(lock, { recursive: true });
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
    const goAt = Date.now() + 1500;
    const takers = Array.from({ length: CONTENDERS }, () => spawnFixture('file-stale-taker.mjs', { directory, channel, goAt, holdMs: 1500, delayMs: 200 }));
    await Promise.all(takers.map((taker) => taker.exited));
    const results = takers.map((taker) => JSON.parse(taker.lines.at(-1)!) as { got: boolean; lost?: boolean });
    const holders = results.filter((result) => result.got);
    expect(holders).toHaveLength(1);
    expect(holders[0]!.lost).toBe(false);
  });
});
