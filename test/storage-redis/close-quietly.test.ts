/**
 * close() right after construction, while the connections are still failing (TLS pointed at a plain
 * server, a quorum server that never answers or refuses): the sockets report their errors after the
 * adapter gave up on them, and ioredis must not log "[ioredis] Unhandled error event" for them. A
 * child process (the built package) creates the adapter, closes it at once, waits, exits; its stderr
 * is what we check.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startRedis, type RedisServer } from '../helpers/redis-servers.js';

const dist = fileURLToPath(new URL('../../dist/storage-redis/index.js', import.meta.url));

/** The child: makes the adapter from `options` (`$HOLE` → a port that accepts and never answers), closes it, waits. */
const CHILD = `
import net from 'node:net';
const { default: RedisStorageAdapter } = await import(process.argv[1]);
const hole = net.createServer((socket) => socket.on('error', () => {}));
await new Promise((resolve) => hole.listen(0, '127.0.0.1', resolve));
const options = JSON.parse(process.argv[2].replaceAll('"$HOLE"', String(hole.address().port)));
const adapter = new RedisStorageAdapter(options);
await adapter.close();
process.stdout.write('closed\\n');
// Late socket errors come within this time (a TLS handshake, a command timeout of 100 ms).
setTimeout(() => process.exit(0), 1500);
`;

const runChild = (options: object): Promise<{ code: number | null; stdout: string; stderr: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD, dist, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data) => (stdout += String(data)));
    child.stderr.on('data', (data) => (stderr += String(data)));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });

let server: RedisServer;
let closed: number;

beforeAll(async () => {
  [server, closed] = await Promise.all([startRedis(), freePort()]);
});
afterAll(async () => {
  await server?.stop();
});

describe('redis adapter: close() while connections are still failing', () => {
  it.each<[string, () => object]>([
    ['TLS pointed at a plain server', () => ({ host: server.host, port: server.port, tls: {} })],
    [
      'a quorum with a server that never answers and a closed port',
      () => ({ quorum: [{ host: '127.0.0.1', port: '$HOLE' }, { host: '127.0.0.1', port: closed }, { host: server.host, port: server.port }], commandTimeout: 100 }),
    ],
    [
      'a quorum over TLS pointed at plain servers',
      () => ({ quorum: [{ host: server.host, port: server.port }, { host: '127.0.0.1', port: closed }, { host: server.host, port: server.port, db: 1 }], tls: {} }),
    ],
  ])('%s: no "Unhandled error event"', async (_, options) => {
    const { code, stdout, stderr } = await runChild(options());
    expect(stdout).toBe('closed\n');
    expect(code).toBe(0);
    expect(stderr).not.toMatch(/Unhandled error event/);
  });
});
