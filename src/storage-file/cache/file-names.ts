import { createHash } from 'node:crypto';

/**
 * Cache keys and lock channels are arbitrary strings; these are their file names. The mapping is
 * one-to-one, also on case-insensitive filesystems, and never yields a path separator, `.`, `..`, a
 * reserved device name or a name longer than 160 characters:
 * - `e-` + the name with `[a-z0-9_-]` kept and every other UTF-16 unit written `%XXXX` (upper-case
 *   hex), when that fits in {@link MAX_ESCAPED} characters;
 * - otherwise `h-` + the sha256 (lower-case hex) of that escaped form.
 * The prefixes differ, so a hashed name never equals an escaped one.
 */
const MAX_ESCAPED = 150;
const KEPT = /[a-z0-9_-]/;

const escape = (name: string): string => {
  let out = '';
  for (let i = 0; i < name.length; i++) {
    const char = name[i]!;
    out += KEPT.test(char) ? char : `%${name.charCodeAt(i).toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return out;
};

/** The file name stem of `name` (add an extension to it). */
export const fileStem = (name: string): string => {
  const escaped = escape(name);
  return escaped.length <= MAX_ESCAPED ? `e-${escaped}` : `h-${createHash('sha256').update(escaped).digest('hex')}`;
};

const STEM = '(?:e-(?:[a-z0-9_-]|%[0-9A-F]{4})*|h-[0-9a-f]{64})';

/** True when `fileName` is `stem + extension` for some stem {@link fileStem} can give. */
export const isStemFile = (fileName: string, extension: string): boolean =>
  fileName.endsWith(extension) && new RegExp(`^${STEM}$`).test(fileName.slice(0, -extension.length));

const STEM_ONLY = new RegExp(`^${STEM}$`);

/** True when `name` is a stem {@link fileStem} can give (no extension). */
export const isStem = (name: string): boolean => STEM_ONLY.test(name);

/** The lock directory of `channel` inside the lock folder (made by mkdir, removed at release). */
export const lockName = (channel: string): string => `${fileStem(channel)}.lock`;

/** The file of `channel`'s last fencing token inside the fence folder. */
export const fenceName = (channel: string): string => `${fileStem(channel)}.fence`;
