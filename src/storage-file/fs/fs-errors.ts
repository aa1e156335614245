/** fs error codes, as the adapter reads them. */

export const codeOf = (error: unknown): unknown => (error as { code?: unknown } | null)?.code;

/** Rethrows anything but "no such file" (ENOENT). */
export const ignoreMissing = (error: unknown): void => {
  if (codeOf(error) !== 'ENOENT') throw error;
};

/** fs error codes that no retry mends: the directory is unwritable, read-only or in the way. */
const CONFIG_CODES = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EEXIST', 'ENAMETOOLONG', 'ELOOP']);

/** True when `error` says the adapter's directory cannot be used as configured. */
export const isConfigError = (error: unknown): boolean => CONFIG_CODES.has(codeOf(error) as string);
