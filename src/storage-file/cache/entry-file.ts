import { codeOf } from '../fs/fs-errors.js';
import type { FsPromises } from '../fs/fs-promises.js';
import { NOT_A_FILE, READ_FLAGS } from '../fs/no-follow.js';

/** What a cache entry file holds, as read. */
export type Entry = { readonly kind: 'missing' } | { readonly kind: 'unreadable'; readonly why: string } | { readonly kind: 'value'; readonly value: unknown };

const MISSING: Entry = { kind: 'missing' };

/**
 * Reads the entry file at `path` without following a link (O_NOFOLLOW): missing; unreadable (not
 * JSON: written by something else, or cut short by a power loss; or not a regular file: a link, a
 * folder, a FIFO); or its value. Any other fs error rejects.
 */
export const readEntry = async (files: FsPromises, path: string): Promise<Entry> => {
  let text: string;
  try {
    text = await files.readFile(path, { encoding: 'utf8', flag: READ_FLAGS });
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return MISSING;
    if (NOT_A_FILE.has(codeOf(error) as string)) return { kind: 'unreadable', why: `not a regular file (${String(codeOf(error))})` };
    throw error;
  }
  try {
    return { kind: 'value', value: JSON.parse(text) as unknown };
  } catch (error) {
    return { kind: 'unreadable', why: String(error) };
  }
};
