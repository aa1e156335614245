import { constants } from 'node:fs';

/**
 * Open flags that never follow a symbolic link at the last step of a path (O_NOFOLLOW, where the
 * platform has it: not on Windows). The folders on the way are checked to be real folders before
 * use (see folder.ts), so together no file operation of the adapter leaves its directory by a link.
 */
const NOFOLLOW = constants.O_NOFOLLOW ?? 0;

/**
 * Reading an entry: a link fails with ELOOP; O_NONBLOCK keeps a FIFO planted in the folder from
 * blocking the read forever (it reads as empty, hence as an unreadable entry).
 */
export const READ_FLAGS = constants.O_RDONLY | NOFOLLOW | (constants.O_NONBLOCK ?? 0);

/** Creating a file of the adapter's own (a temporary file, a ticket): a new file, never through a link. */
export const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW;

/** Errors of opening something that is not a regular file with the flags above: a link (ELOOP; EMLINK on BSD), a folder. */
export const NOT_A_FILE = new Set(['ELOOP', 'EMLINK', 'EISDIR']);
