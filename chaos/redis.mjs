// The soak's own redis-server on a free loopback port. Unlike bench/lib/redis.mjs it keeps the process
// (the driver SIGSTOPs it), allows DEBUG from loopback (DEBUG SLEEP stalls) and fails loudly when the
// server does not come up. Replies are read with bench/lib/redis.mjs's one-command client.
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { command } from '../bench/lib/redis.mjs';

export { command };

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

/** Redis 7 refuses DEBUG unless enabled at startup; older servers allow it and reject the option. */
const debugOption = () => {
  const { stdout = '', error } = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (error) throw new Error(error.code === 'ENOENT' ? 'redis-server is not on PATH (needed by --adapter redis or both)' : error.message);
  const major = Number(/v=(\d+)/.exec(stdout)?.[1] ?? 0);
  return major >= 7 ? ['--enable-debug-command', 'local'] : [];
};

/** Starts redis-server; `onExit` runs if it ends before `stop()`. Resolves { port, pid, stop }. */
export const startRedis = async ({ onExit }) => {
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...debugOption()];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let stopped = false;
  for (const stream of [child.stdout, child.stderr]) stream.on('data', (chunk) => (output = (output + chunk).slice(-2000)));
  const failed = new Promise((_, reject) => {
    child.once('error', (error) => reject(new Error(`redis-server: ${error.message}`)));
    child.once('exit', (code, signal) => {
      const last = output.trim().split('\n').pop() ?? '';
      const error = new Error(`redis-server ended (${signal ?? `exit code ${code}`})${last ? `: ${last}` : ''}`);
      if (!stopped) onExit(error);
      reject(error);
    });
  });
  failed.catch(() => undefined);
  const stop = () => {
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const up = (async () => {
    for (let i = 0; i < 100; i++) {
      if ((await command(port, 'PING').catch(() => '')).startsWith('+PONG')) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`redis-server did not answer PING on 127.0.0.1:${port} within 5 s`);
  })();
  try {
    await Promise.race([up, failed]);
  } catch (error) {
    stop();
    throw error;
  }
  const debug = await command(port, 'DEBUG SLEEP 0');
  return { port, pid: child.pid, debug: debug.startsWith('+OK'), stop };
};
