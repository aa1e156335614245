/** Refusing option names nobody reads: a typo must not silently fall back to a default. */
import { describe } from './errors.js';

/** Edit distance between two short names (insertions, deletions, substitutions). */
const distance = (a: string, b: string): number => {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
};

/** The known name closest to `name`, when it is close enough to be a likely typo. */
const closest = (name: string, known: readonly string[]): string | undefined => {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = distance(name, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
};

/**
 * Throws a `TypeError` (code `ERR_ATOMIZE_INVALID_OPTION`, `option` its name) for the first own
 * property of `given` that is not in `known`, naming the closest known option. `path` prefixes the
 * names of nested options (`'lockerOptions.'`).
 */
export const refuseUnknownOptions = (where: string, given: object, known: readonly string[], path = ''): void => {
  for (const name of Object.keys(given)) {
    if (known.includes(name)) continue;
    const guess = closest(name, known);
    const hint = guess ? ` Did you mean \`${path}${guess}\`?` : ` Known options: ${known.map((k) => `\`${path}${k}\``).join(', ')}.`;
    throw Object.assign(new TypeError(`${where}: unknown option \`${path}${name}\` ${describe((given as Record<string, unknown>)[name])}.${hint}`), {
      code: 'ERR_ATOMIZE_INVALID_OPTION',
      option: path + name,
      ...(guess ? { suggestion: path + guess } : {}),
    });
  }
};
