import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInflightServer, type InflightServer } from '../helpers/inflight-server.js';
import { runWorkers, type WorkerConfig } from '../helpers/run-workers.js';
import { cleanup, tempDir } from './helpers.js';

let server: InflightServer;
beforeAll(async () => (server = await startInflightServer()));
afterAll(async () => {
  await server.close();
  cleanup();
});

const workers = (directory: string, jobSets: WorkerConfig['jobs'][], extra: Partial<WorkerConfig> & { notify?: boolean } = {}) => {
  const { notify, ...rest } = extra;
  return jobSets.map(
    (jobs): WorkerConfig => ({
      adapter: 'file',
      adapterOptions: { directory, notify },
      url: server.url,
      jobs,
      ms: 5,
      timeout: 30_000,
      ...rest,
    }),
  );
};

const expectClean = (results: Awaited<ReturnType<typeof runWorkers>>, done: number[]) => {
  for (const result of results) {
    expect(result.errors, result.stderr).toEqual([]);
    expect(result.exitCode).toBe(0);
  }
  expect(results.map((result) => result.done)).toEqual(done);
};

describe('FileStorageAdapter with atomize, across processes', () => {
  it('several processes on one channel: one request in flight at a time', async () => {
    const channel = `one-${Date.now()}`;
    const results = await runWorkers(workers(tempDir('one'), [0, 1, 2, 3].map(() => [{ channel, count: 25 }])));
    expectClean(results, [25, 25, 25, 25]);
    expect(server.maxInFlight()[channel]).toBe(1);
  });

  it("overlapping channel sets (['a','b'], 'a', ['b','a'], 'b'): no overlap, no deadlock", async () => {
    const [a, b] = [`a-${Date.now()}`, `b-${Date.now()}`];
    const jobs = [{ channel: [a, b], count: 10 }, { channel: a, count: 10 }, { channel: [b, a], count: 10 }, { channel: b, count: 10 }];
    const results = await runWorkers(workers(tempDir('overlap'), [jobs, jobs, jobs]));
    expectClean(results, [40, 40, 40]);
    expect(server.maxInFlight()[a]).toBe(1);
    expect(server.maxInFlight()[b]).toBe(1);
  });

  it('the same without release notifications (waiters poll)', async () => {
    const [a, b] = [`pa-${Date.now()}`, `pb-${Date.now()}`];
    const jobs = [{ channel: [a, b], count: 5 }, { channel: a, count: 5 }, { channel: b, count: 5 }];
    const results = await runWorkers(workers(tempDir('poll'), [jobs, jobs, jobs], { notify: false, interval: 20 }));
    expectClean(results, [15, 15, 15]);
    expect(server.maxInFlight()[a]).toBe(1);
    expect(server.maxInFlight()[b]).toBe(1);
  });

  it('a request that outlives the stale time keeps its lock (lease renewal)', async () => {
    const channel = `long-${Date.now()}`;
    const configs = workers(tempDir('long'), [[{ channel, count: 1 }], [{ channel, count: 1 }]], { ms: 4000 });
    for (const config of configs) Object.assign(config.adapterOptions, { lockerOptions: { stale: 2000 } });
    const results = await runWorkers(configs);
    expectClean(results, [1, 1]);
    expect(server.maxInFlight()[channel]).toBe(1);
  });
});
