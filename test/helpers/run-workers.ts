import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface WorkerConfig {
  adapter: 'file' | 'redis';
  adapterOptions: object;
  url: string;
  jobs: Array<{ channel: string | string[]; count: number }>;
  ms: number;
  timeout?: number;
  interval?: number;
  /** Epoch ms at which every worker starts its calls (a start barrier), after loading and warming up. */
  startAt?: number;
  /** More atomize options (e.g. `queue`). */
  atomizeOptions?: object;
}

export interface WorkerResult {
  done: number;
  errors: string[];
  exitCode: number;
  stderr: string;
}

const worker = fileURLToPath(new URL('../fixtures/atomize-worker.mjs', import.meta.url));

/** Runs one worker process (process.execPath, no shell) and collects its result line. */
export const runWorker = (config: WorkerConfig): Promise<WorkerResult> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [worker, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      let parsed: { done: number; errors: string[] } = { done: 0, errors: [`no result line; stderr: ${stderr}`] };
      try {
        if (line) parsed = JSON.parse(line);
      } catch {
        parsed.errors.push(`unparsable result: ${line}`);
      }
      resolve({ ...parsed, exitCode: code ?? -1, stderr });
    });
  });

/** Runs all workers at once. */
export const runWorkers = (configs: WorkerConfig[]): Promise<WorkerResult[]> => Promise.all(configs.map(runWorker));
