import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A fresh temporary folder; `cleanup()` removes every folder made so far. */
const made: string[] = [];
export const tempDir = (label: string): string => {
  const dir = mkdtempSync(join(tmpdir(), `atomize-file-${label}-`));
  made.push(dir);
  return dir;
};
export const cleanup = (): void => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
};

/** Polls a condition until it is truthy (bounded generously: only catches hangs). */
export { waitFor } from '../helpers/wait.js';

/** A child running test/fixtures/<name> (process.execPath, no shell), with its stdout lines. */
export interface Child {
  process: ChildProcess;
  lines: string[];
  /** Resolves the first stdout line that satisfies `match`. */
  line(match: (line: string) => boolean): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

export const spawnFixture = (name: string, config: object, env?: NodeJS.ProcessEnv): Child => {
  const file = fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
  const child = spawn(process.execPath, [file, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'], ...(env ? { env: { ...process.env, ...env } } : {}) });
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  let buffer = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => {
    buffer += chunk;
    const parts = buffer.split('\n');
    buffer = parts.pop()!;
    lines.push(...parts);
    for (const wake of waiters.splice(0)) wake();
  });
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => {
      for (const wake of waiters.splice(0)) wake();
      resolve({ code, signal, stderr });
    }),
  );
  let closed = false;
  void exited.then(() => (closed = true));
  const line = async (match: (line: string) => boolean): Promise<string> => {
    for (;;) {
      const found = lines.find(match);
      if (found !== undefined) return found;
      if (closed) throw new Error(`${name} exited without the expected line; stderr: ${stderr}`);
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  return { process: child, lines, line, exited };
};
