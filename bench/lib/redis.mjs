// A redis-server of the benchmark's own on a free loopback port, so INFO commandstats counts only it.
import { spawn } from 'node:child_process';
import { createServer, connect } from 'node:net';

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

/** Sends one inline command and resolves the raw reply (enough for PING and INFO). */
export const command = (port, line) =>
  new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    socket.on('data', (chunk) => {
      reply += chunk;
      if (/^[+-]/.test(reply) || (/^\$(\d+)\r\n/.test(reply) && reply.length >= Number(reply.match(/^\$(\d+)/)[1]))) socket.end();
    });
    socket.on('end', () => resolve(reply));
    socket.on('error', reject);
    socket.write(`${line}\r\n`);
  });

export const startRedis = async () => {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if ((await command(port, 'PING').catch(() => '')).startsWith('+PONG')) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { port, stop: () => child.kill('SIGTERM') };
};

/** Calls of every command but INFO, CONFIG and PING, by name, from INFO commandstats. */
export const commandCalls = async (port) => {
  const info = await command(port, 'INFO commandstats');
  const calls = {};
  for (const [, name, count] of info.matchAll(/cmdstat_([\w|]+):calls=(\d+)/g)) {
    if (!/^(info|config|ping)/.test(name)) calls[name] = Number(count);
  }
  return calls;
};

/** Total calls of every command but INFO, CONFIG and PING. */
export const commandCount = async (port) => Object.values(await commandCalls(port)).reduce((sum, n) => sum + n, 0);
