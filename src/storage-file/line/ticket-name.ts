/**
 * Names of ticket files in a fair line: `<arrival>-<pid>.<pid namespace>-<stem of the ticket id>`.
 *
 * - arrival: the machine's monotonic clock (CLOCK_MONOTONIC, through `process.hrtime`), in µs,
 *   zero-padded so that names sort by it. That clock is one for every process of a kernel (also in
 *   containers), does not depend on when a process started, and does not jump with the wall clock.
 * - pid and pid namespace of the waiting process, so that other processes of the same namespace can
 *   tell at once that it died (the namespace is empty where the system does not show it).
 */
import { readlinkSync } from 'node:fs';
import { fileStem, isStem } from '../cache/file-names.js';

/** Width of an arrival stamp: integer microseconds of the monotonic clock, zero-padded. */
const WIDTH = 17;
const TICKET = new RegExp(`^\\d{${WIDTH}}-(\\d+)\\.(\\d*)-(.+)$`);
let lastArrival = 0;

/** Now, as a name prefix that sorts by arrival across the processes of one machine, strictly increasing within this process. */
const arrival = (): string => {
  lastArrival = Math.max(Number(process.hrtime.bigint() / 1000n), lastArrival + 1);
  return String(lastArrival).padStart(WIDTH, '0');
};

const readNamespace = (): string => {
  try {
    return /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))?.[1] ?? '';
  } catch {
    return '';
  }
};
let namespace: string | undefined;

/** This process, as ticket names write it: `<pid>.<pid namespace>`. */
const owner = (): string => `${process.pid}.${(namespace ??= readNamespace())}`;

/** The machine's monotonic clock now, in µs: the clock of arrival stamps. */
export const monotonicNow = (): number => Number(process.hrtime.bigint() / 1000n);

/** The arrival stamp of a ticket name (µs of the monotonic clock), NaN for other names. */
export const arrivalOf = (name: string): number => (TICKET.test(name) ? Number(name.slice(0, WIDTH)) : Number.NaN);

/** The name of the file of ticket `id` joining a line now. */
export const ticketName = (id: string): string => `${arrival()}-${owner()}-${fileStem(id)}`;

/** True for the names of ticket files; other files are ignored. */
export const isTicketName = (name: string): boolean => {
  const match = TICKET.exec(name);
  return match !== null && isStem(match[3]!);
};

/**
 * True when the ticket's process is known to have exited: it ran in this process's pid namespace
 * and no process has its pid any more. Unknown (another namespace, or no namespace shown): false,
 * and the ticket's age alone tells.
 */
export const ownerExited = (name: string): boolean => {
  const match = TICKET.exec(name);
  if (!match || !match[2] || match[2] !== (namespace ??= readNamespace())) return false;
  try {
    process.kill(Number(match[1]), 0);
    return false;
  } catch (error) {
    return (error as { code?: unknown }).code === 'ESRCH';
  }
};
