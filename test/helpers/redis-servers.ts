/**
 * Starts and stops real redis-server processes for tests: one server, several independent ones, or a
 * cluster of three masters. Loopback only; free ports; temp dirs; no shell.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const HOST = '127.0.0.1';
const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A port nobody listens on right now (and, for a cluster node, its bus port too). */
export const freePort = async (withBus = false): Promise<number> => {
  for (;;) {
    const port = await listenOnce(0);
    if (port > 55_000) continue;
    if (!withBus) return port;
    if (await listenOnce(port + 10_000).then(() => true, () => false)) return port;
  }
};

const listenOnce = (port: number): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, HOST, () => {
      const { port: taken } = server.address() as { port: number };
      server.close(() => resolve(taken));
    });
  });

/** Resolves true when something on `port` answers a RESP PING (a NOAUTH error counts as alive). */
const answersPing = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = createConnection({ host: HOST, port });
    const done = (alive: boolean) => {
      socket.destroy();
      resolve(alive);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(/^[+-]/.test(data.toString())));
  });

export interface ServerOptions {
  /** Starts the server with `--requirepass`. */
  password?: string;
  /** A cluster-enabled node (for {@link startCluster}). */
  cluster?: boolean;
  /** Commands the server does not know (`--rename-command NAME ""`), as on an older Redis. */
  without?: readonly string[];
}

export interface RedisServer {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  /** The current process (a new one after `restart`). */
  readonly child: ChildProcess;
  /** Sends `signal` (default SIGKILL) and waits for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGSTOP: the server keeps its sockets but answers nothing. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** Kills the process (if running) and starts a new one on the same port, empty. */
  restart(): Promise<void>;
  /** Kills the process and removes its temp dir. */
  stop(): Promise<void>;
}

/** Every server process still running, killed when this process exits whatever happened. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));

/** Starts one redis-server on a free loopback port and waits until it answers PING. */
export const startRedis = async (options: ServerOptions = {}): Promise<RedisServer> => {
  const port = await freePort(options.cluster);
  const dir = mkdtempSync(join(tmpdir(), 'atomize-redis-'));
  const args = ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--dir', dir];
  if (options.password) args.push('--requirepass', options.password);
  for (const name of options.without ?? []) args.push('--rename-command', name, '');
  if (options.cluster) args.push('--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'), '--cluster-node-timeout', '3000');
  let child: ChildProcess;
  const launch = async (): Promise<void> => {
    child = spawn('redis-server', args, { stdio: 'ignore' });
    running.add(child);
    const started = child;
    child.once('exit', () => running.delete(started));
    child.once('error', () => undefined);
    for (let i = 0; i < 500; i++) {
      if (child.exitCode !== null) throw new Error(`redis-server on port ${port} exited with ${child.exitCode}`);
      if (await answersPing(port)) return;
      await sleep(20);
    }
    throw new Error(`redis-server on port ${port} did not answer PING`);
  };
  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGCONT');
    child.kill(signal);
    await exited(child);
  };
  await launch();
  return {
    host: HOST,
    port,
    url: `redis://${HOST}:${port}`,
    get child() {
      return child;
    },
    kill,
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
    restart: async () => {
      await kill();
      await launch();
    },
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

/** Several independent servers (a Redlock quorum). */
export const startRedisGroup = (count = 3, options: ServerOptions = {}): Promise<RedisServer[]> =>
  Promise.all(Array.from({ length: count }, () => startRedis(options)));

export const stopAll = async (servers: readonly RedisServer[]): Promise<void> => {
  await Promise.all(servers.map((server) => server.stop()));
};

export interface RedisCluster {
  readonly servers: RedisServer[];
  readonly nodes: Array<{ host: string; port: number }>;
  stop(): Promise<void>;
}

const clusterOk = async (port: number): Promise<boolean> => {
  const { stdout } = await run('redis-cli', ['-h', HOST, '-p', String(port), 'cluster', 'info']);
  return /cluster_state:ok/.test(stdout);
};

/** Three cluster-enabled masters joined with `redis-cli --cluster create`, waited until state ok. */
export const startCluster = async (): Promise<RedisCluster> => {
  const servers = await startRedisGroup(3, { cluster: true });
  const nodes = servers.map(({ host, port }) => ({ host, port }));
  try {
    const addresses = nodes.map(({ host, port }) => `${host}:${port}`);
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes']);
    for (let i = 0; ; i++) {
      const states = await Promise.all(nodes.map(({ port }) => clusterOk(port)));
      if (states.every(Boolean)) break;
      if (i > 300) throw new Error('the cluster did not reach cluster_state:ok');
      await sleep(50);
    }
  } catch (error) {
    await stopAll(servers);
    throw error;
  }
  return { servers, nodes, stop: () => stopAll(servers) };
};

/** The single-server tests' server: `REDIS_URL` when set (never stopped here), else one of our own. */
export const sharedRedis = async (): Promise<{ url: string; stop(): Promise<void> }> => {
  const url = process.env.REDIS_URL;
  if (url) return { url, stop: async () => undefined };
  const server = await startRedis();
  return { url: server.url, stop: () => server.stop() };
};
