import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface NodeRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `node ...args` from the project's root (no shell), killed after `limit` ms; collects its output. */
export const runNode = (args: string[], { env = {}, limit = 45_000 }: { env?: Record<string, string>; limit?: number } = {}): Promise<NodeRun> =>
  new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), limit);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
