// Figures of one run, from the server's log of served requests (absolute ms).
const quantile = (sorted, q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN);
const round = (x, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/** The floor F: median gap between back-to-back requests of one process without any lock. */
export const floorOf = (served) => {
  const gaps = served.slice(1).map((s, i) => s.start - served[i].end).sort((a, b) => a - b);
  return quantile(gaps, 0.5);
};

export const metricsOf = (served, { d, floor }) => {
  const log = [...served].sort((a, b) => a.start - b.start);
  const wall = log.at(-1).end - log[0].start;
  const throughput = (log.length / wall) * 1000;
  const handoffs = [];
  let contendedPairs = 0;
  let sameWhileWaiting = 0;
  for (let i = 1; i < log.length; i++) {
    const [prev, next] = [log[i - 1], log[i]];
    if (next.pid !== prev.pid) handoffs.push(next.start - prev.end);
    const othersWaiting = log.slice(i).some((s) => s.pid !== prev.pid && s.t0 < prev.end);
    if (othersWaiting) {
      contendedPairs++;
      if (next.pid === prev.pid) sameWhileWaiting++;
    }
  }
  handoffs.sort((a, b) => a - b);
  const waits = log.map((s) => s.start - s.t0).sort((a, b) => a - b);
  const meanWait = waits.reduce((a, b) => a + b, 0) / waits.length;
  return {
    calls: log.length,
    wallMs: round(wall, 0),
    throughput: round(throughput, 1),
    shareOfIdeal: round(throughput / (1000 / (d + floor)), 3),
    handoffGap: { p50: round(quantile(handoffs, 0.5)), p95: round(quantile(handoffs, 0.95)), max: round(handoffs.at(-1) ?? NaN), count: handoffs.length },
    lockWait: { p50: round(quantile(waits, 0.5)), mean: round(meanWait), max: round(waits.at(-1)), maxOverMean: round(waits.at(-1) / meanWait) },
    sameProcessShare: round(contendedPairs ? sameWhileWaiting / contendedPairs : 0, 3),
  };
};
