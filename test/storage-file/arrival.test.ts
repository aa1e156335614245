/**
 * Arrival order in a file line must not depend on when each process started, nor on wall-clock
 * steps: a ticket's arrival stamp is the machine's monotonic clock at the moment it queues, the same
 * clock in every process. Checked across real processes: a waiter started well before it queues
 * stamps its ticket with the parent's own monotonic reading of that moment (before the fix: the
 * process's start time on the wall clock plus its own uptime, drifting apart from other processes').
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileStorageAdapter } from '../../src/storage-file/index.js';
import { lockName } from '../../src/storage-file/cache/file-names.js';
import { startInflightServer, type InflightServer } from '../helpers/inflight-server.js';
import { fileProbe } from '../helpers/probes.js';
import { cleanup, sleep, spawnFixture, tempDir, waitFor } from './helpers.js';

let http: InflightServer;
beforeAll(async () => {
  http = await startInflightServer();
});
afterAll(async () => {
  await http?.close();
  cleanup();
});

const monotonicMicros = (): number => Number(process.hrtime.bigint() / 1000n);

describe('FileStorageAdapter: arrival stamps', () => {
  it("a ticket's arrival is the machine's monotonic clock when it queued, whenever its process started", async () => {
    const directory = tempDir('arrival');
    const channel = 'arrival';
    const goFile = join(directory, 'go');
    const holder = new FileStorageAdapter({ directory });
    const held = await holder.locker.tryAcquire(channel);
    expect(held).not.toBeNull();
    const waiter = spawnFixture('file-fair-worker.mjs', { adapterOptions: { directory }, url: http.url, channel, count: 1, ms: 1, timeout: 30_000, goFile });
    await waiter.line((line) => line === 'ready');
    await sleep(1000); // the waiter has been running a while before it queues
    const before = monotonicMicros();
    writeFileSync(goFile, '');
    await waitFor(async () => (await fileProbe(directory, channel).waiting()) === 1, 'the waiter to queue');
    const after = monotonicMicros();
    const [name] = readdirSync(join(directory, 'lines', lockName(channel)));
    const stamp = Number(name!.slice(0, name!.indexOf('-')));
    expect(stamp).toBeGreaterThanOrEqual(before);
    expect(stamp).toBeLessThanOrEqual(after);
    await held!.release();
    expect((await waiter.exited).code).toBe(0);
    await holder.close();
  });
});
