import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInflightServer, type InflightServer } from '../helpers/inflight-server.js';
import { cleanup, tempDir } from './helpers.js';

// alova's own atomize and this adapter, as a user would load them (CommonJS, the built package).
const require = createRequire(import.meta.url);
const { createAlova } = require('alova');
const adapterFetch = require('alova/fetch');
const { atomize } = require('alova/server');
const FileStorageAdapter = require('alova-atomize/storage-file');

let server: InflightServer;
beforeAll(async () => (server = await startInflightServer()));
afterAll(async () => {
  await server.close();
  cleanup();
});

describe("FileStorageAdapter as the l2Cache of alova/server's own atomize", () => {
  it("require('alova-atomize/storage-file') is the adapter class", () => {
    expect(typeof FileStorageAdapter).toBe('function');
    expect(FileStorageAdapter.default).toBe(FileStorageAdapter);
    expect(FileStorageAdapter.FileStorageAdapter).toBe(FileStorageAdapter);
  });

  it('keeps concurrent atomized requests on one channel apart, in one adapter and across adapters', async () => {
    const directory = tempDir('alova');
    const adapters = [new FileStorageAdapter({ directory }), new FileStorageAdapter({ directory })];
    const alovas = adapters.map((l2Cache) =>
      createAlova({ baseURL: server.url, requestAdapter: (adapterFetch.default ?? adapterFetch)(), l2Cache, cacheFor: null }),
    );
    const calls = [0, 1, 2, 3].map((i) =>
      atomize(alovas[i % 2].Get('/work', { params: { channels: 'alova', ms: 150, i } }), { channel: 'alova', interval: 20 }),
    );
    const responses = await Promise.all(calls);
    expect(responses.every((response: { ok: boolean }) => response.ok)).toBe(true);
    expect(server.maxInFlight().alova).toBe(1);
    await Promise.all(adapters.map((adapter: { close(): Promise<void> }) => adapter.close()));
  });

  it('keeps what alova caches in restore mode, for another instance (process) to restore', async () => {
    const directory = tempDir('alova-cache');
    const alovaOn = () =>
      createAlova({
        baseURL: server.url,
        requestAdapter: (adapterFetch.default ?? adapterFetch)(),
        l2Cache: new FileStorageAdapter({ directory }),
        responded: (response: Response) => response.json(),
        cacheLogger: false,
        id: 'api', // processes of one app get the same id, hence the same cache keys
      });
    const get = (alova: ReturnType<typeof alovaOn>) =>
      alova.Get('/work', { params: { channels: 'cached', ms: 1 }, cacheFor: { mode: 'restore', expire: 60_000 } });
    const before = server.total();
    const first = await get(alovaOn());
    const restored = await get(alovaOn());
    expect(restored).toEqual(first);
    expect(server.total() - before).toBe(1);
  });
});
