// A clustered HTTP service on one machine whose workers call an upstream API atomically, with file locks.
//
// Run:  npm run build && node examples/cluster-file.mjs
//
// The primary process starts a fake upstream "ticket office" (POST /tickets hands out the next number,
// but not atomically: it reads the counter, waits a little, writes it back), forks WORKERS workers that
// share one HTTP port (node:cluster), and sends them REQUESTS requests at once. Each worker answers
// GET /ticket by calling the ticket office inside atomize(..., { channel: 'tickets' }), with a
// FileStorageAdapter in a directory all workers share. Without atomize, concurrent calls would get the
// same number; with it, every number from 1 to REQUESTS is handed out exactly once.
//
// Environment: WORKERS (default 4), REQUESTS (default 40). Prints one line and exits (0 when exact).
import cluster from 'node:cluster';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAlova } from 'alova';
import adapterFetch from 'alova/fetch';
import { atomize } from 'alova-atomize/server';
import FileStorageAdapter from 'alova-atomize/storage-file';

const WORKERS = Number(process.env.WORKERS ?? 4);
const REQUESTS = Number(process.env.REQUESTS ?? 40);

const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));

const json = (res, status, body) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

/** The upstream API: a ticket counter with a read-wait-write race in it. */
const startTicketOffice = async () => {
  let next = 1;
  const server = createServer((req, res) => {
    req.resume();
    if (req.method !== 'POST' || req.url !== '/tickets') return json(res, 404, { error: 'not found' });
    const ticket = next;
    setTimeout(() => {
      next = ticket + 1;
      json(res, 200, { ticket });
    }, 3);
  });
  return { server, url: `http://127.0.0.1:${await listen(server)}` };
};

/** A worker: the service itself. */
const worker = async () => {
  const storage = new FileStorageAdapter({ directory: process.env.LOCK_DIR });
  const alova = createAlova({
    baseURL: process.env.UPSTREAM_URL,
    requestAdapter: adapterFetch(),
    l2Cache: storage, // atomize takes its locks from here
    cacheFor: null,
    responded: (response) => response.json(),
  });

  const server = createServer(async (req, res) => {
    req.resume();
    if (req.method !== 'GET' || req.url !== '/ticket') return json(res, 404, { error: 'not found' });
    try {
      const { ticket } = await atomize(alova.Post('/tickets'), { channel: 'tickets' });
      json(res, 200, { ticket, worker: cluster.worker.id });
    } catch (error) {
      json(res, 503, { error: error.code ?? error.message });
    }
  });
  await listen(server); // in a cluster, every worker gets the same port

  // Graceful stop: no new connections, then release whatever the adapter still holds.
  process.on('message', async (message) => {
    if (message !== 'stop') return;
    await new Promise((resolve) => server.close(resolve));
    await storage.close();
    process.disconnect();
  });
};

/** The primary: upstream, workers, a burst of requests, the verdict. */
const primary = async () => {
  const lockDir = mkdtempSync(join(tmpdir(), 'alova-atomize-cluster-'));
  const office = await startTicketOffice();
  try {
    const workers = Array.from({ length: WORKERS }, () => cluster.fork({ UPSTREAM_URL: office.url, LOCK_DIR: lockDir }));
    const ports = await Promise.all(workers.map((w) => new Promise((resolve) => w.once('listening', ({ port }) => resolve(port)))));
    const service = `http://127.0.0.1:${ports[0]}`;

    const answers = await Promise.all(
      Array.from({ length: REQUESTS }, () => fetch(`${service}/ticket`).then((response) => response.json())),
    );

    await Promise.all(workers.map((w) => new Promise((resolve) => w.once('exit', resolve).send('stop'))));

    const tickets = answers.map((answer) => answer.ticket).filter(Number.isInteger);
    const failed = answers.filter((answer) => answer.error);
    const distinct = new Set(tickets);
    const exact = failed.length === 0 && distinct.size === REQUESTS && tickets.every((t) => t >= 1 && t <= REQUESTS);
    const servedBy = new Set(answers.map((answer) => answer.worker)).size;
    const verdict = exact
      ? `tickets 1–${REQUESTS} each handed out once`
      : `${tickets.length - distinct.size} duplicate ticket numbers, ${failed.length} failed (${failed[0]?.error ?? 'no error'})`;
    console.log(`cluster-file: ${REQUESTS} requests served by ${servedBy} of ${WORKERS} workers with file locks; ${verdict}`);
    process.exitCode = exact ? 0 : 1;
  } finally {
    office.server.close();
    rmSync(lockDir, { recursive: true, force: true });
  }
};

await (cluster.isPrimary ? primary() : worker());
