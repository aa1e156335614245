// A small seeded PRNG, so that a seed replays the same fault schedule and worker parameters.
// Not for cryptography: a Weyl sequence mixed by the murmur3 32-bit finalizer.

/** A 32-bit FNV-1a hash of `text`: any --seed string becomes a number. */
export const hashSeed = (text) => {
  let h = 0x811c9dc5;
  for (const char of String(text)) {
    h ^= char.codePointAt(0);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
};

/** A generator of numbers in [0, 1) and helpers over it; `fork(label)` gives an independent stream. */
export const createRng = (seed) => {
  let state = hashSeed(seed);
  const next = () => {
    state = (state + 0x9e3779b9) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return ((z ^ (z >>> 16)) >>> 0) / 2 ** 32;
  };
  /** A whole number from `lo` to `hi`, both included. */
  const int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = (list) => list[Math.floor(next() * list.length)];
  /** One key of `weights` ({ key: weight }), drawn in proportion to its weight. */
  const weighted = (weights) => {
    const entries = Object.entries(weights);
    let roll = next() * entries.reduce((sum, [, w]) => sum + w, 0);
    for (const [key, w] of entries) if ((roll -= w) < 0) return key;
    return entries[entries.length - 1][0];
  };
  return { next, int, pick, weighted, fork: (label) => createRng(`${seed}/${label}`) };
};
