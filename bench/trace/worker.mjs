// One traced process of bench/trace/run.mjs: times each step of a lock handoff in this process.
import { createAlova } from 'alova';
import adapterFetch from 'alova/fetch';
import { clock } from '../../test/helpers/inflight-server.mjs';

const config = JSON.parse(process.argv[2]);
const dist = new URL('../../dist/', import.meta.url);
const { atomize } = await import(new URL('server/index.js', dist).href);
const Adapter = (await import(new URL(`storage-${config.adapter}/index.js`, dist).href)).default;
const adapter = new Adapter(config.adapterOptions);
const marks = [];
const mark = (what) => marks.push([what, clock()]);

// Time the locker's steps by wrapping it (the package itself stays untouched).
const { locker } = adapter;
const tryAcquire = locker.tryAcquire.bind(locker);
locker.tryAcquire = async (channel, ticket) => {
  const handle = await tryAcquire(channel, ticket);
  if (!handle) return handle;
  mark('got');
  return {
    channel: handle.channel,
    signal: handle.signal,
    release: async () => {
      mark('release');
      await handle.release();
      mark('released');
    },
  };
};
locker.onRelease?.('trace', () => mark('event'));
const alova = createAlova({
  baseURL: config.url,
  requestAdapter: adapterFetch(),
  l2Cache: adapter,
  cacheFor: null,
  beforeRequest: () => mark('beforeRequest'),
  responded: {
    onSuccess: (response) => {
      mark('response');
      return response.json();
    },
  },
});
await adapter.get('warm-up');
process.send('ready');
process.once('message', async () => {
  for (let i = 0; i < config.m; i++) {
    const params = { channels: 'trace', ms: config.d, pid: process.pid, t0: clock() };
    await atomize(alova.Get('/work', { params }), { channel: 'trace' });
  }
  await adapter.close();
  process.send(marks, () => process.exit(0));
});
