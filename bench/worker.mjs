// One benchmark process: waits for "go", then runs its requests one after another and reports.
// Config (argv[2], JSON): { adapter: 'file'|'redis'|'none', adapterOptions, atomizeOptions, url, m, d, warm, channel }
import { createAlova } from 'alova';
import adapterFetch from 'alova/fetch';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { clock } from '../test/helpers/inflight-server.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const config = JSON.parse(process.argv[2]);
const load = (entry) => import(pathToFileURL(resolve(root, 'dist', entry, 'index.js')).href);
const { atomize } = await load('server');
const adapter =
  config.adapter === 'none' ? undefined : new (await load(`storage-${config.adapter}`)).default(config.adapterOptions);
const alova = createAlova({ baseURL: config.url, requestAdapter: adapterFetch(), l2Cache: adapter, cacheFor: null });

const request = (ms, locked, i) => {
  const method = alova.Get('/work', { params: { channels: config.channel, ms, pid: process.pid, i, t0: clock() } });
  return locked ? atomize(method, { channel: config.channel, ...config.atomizeOptions }) : method.send(true);
};

/** Uncontended cost: time per call of `n` locked calls minus `n` plain calls, alternating batches. */
const overhead = async (n) => {
  let plain = 0;
  let locked = 0;
  for (let round = 0; round < 5; round++) {
    for (const isLocked of [false, true]) {
      const started = clock();
      for (let i = 0; i < n; i++) await request(0, isLocked, i);
      if (isLocked) locked += clock() - started;
      else plain += clock() - started;
    }
  }
  return (locked - plain) / (5 * n);
};

// Warm up: connections, and the code paths of the workload (at least one call).
for (let i = 1; i <= Math.max(1, config.warm ?? 1); i++) await request(config.d, config.adapter !== 'none', -i);
process.send({ ready: true });
process.once('message', async ({ task }) => {
  const errors = [];
  const cpuBefore = process.cpuUsage();
  let result;
  if (task === 'overhead') result = await overhead(config.m);
  else {
    for (let i = 0; i < config.m; i++) {
      await request(config.d, task === 'locked', i).catch((error) => errors.push(`${error.name}: ${error.message}`));
    }
  }
  // Report first, close when told: the parent counts Redis commands between "go" and every report.
  process.once('message', async () => {
    await adapter?.close?.();
    process.exit(0);
  });
  const cpu = process.cpuUsage(cpuBefore);
  process.send({ errors, result, cpuMs: (cpu.user + cpu.system) / 1000 });
});
