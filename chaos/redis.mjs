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

/** Starts redis-server; `onExit` runs if it ends before `stop()` or `restart()`. Resolves { port, pid, debug, stop, restart }. */
export const startRedis = async ({ onExit }) => {
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...debugOption()];
  const servers = new Set(); // the stop() of every server started and not stopped yet (a restart may be under way)
  // One redis-server process: `stop()` kills it; its unexpected end calls `onExit`.
  const launch = async () => {
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let stopped = false;
    for (const stream of [child.stdout, child.stderr]) stream.on('data', (chunk) => (output = (output + chunk).slice(-2000)));
    const exited = new Promise((resolve) => child.once('exit', resolve));
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
      servers.delete(stop);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return exited;
    };
    servers.add(stop);
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
    return { pid: child.pid, stop };
  };
  let current = await launch();
  const debug = await command(port, 'DEBUG SLEEP 0');
  const redis = {
    port,
    pid: current.pid,
    debug: debug.startsWith('+OK'),
    stop: () => {
      for (const stop of [...servers]) void stop();
    },
    /**
     * SIGKILL of the server, then a new empty one on the same port (no persistence: every key is
     * lost); resolves once it answers PING. `pid` is the new server's.
     */
    restart: async () => {
      await current.stop();
      current = await launch();
      redis.pid = current.pid;
    },
  };
  return redis;
};
