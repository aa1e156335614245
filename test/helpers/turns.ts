import type { Served } from './inflight-server.js';

/**
 * How often a process got the next turn on a channel again while another process had been waiting
 * for a whole turn (its call started, `t0`, before the previous request started), so that its first
 * attempt surely reached the lock backend before the release.
 */
export const repeatsWhileOthersWait = (served: readonly Served[]): { repeats: number; contended: number } => {
  const log = [...served].sort((a, b) => a.start - b.start);
  let repeats = 0;
  let contended = 0;
  for (let i = 1; i < log.length; i++) {
    const prev = log[i - 1]!;
    const othersWaiting = log.slice(i).some((s) => s.pid !== prev.pid && s.t0 < prev.start);
    if (!othersWaiting) continue;
    contended++;
    if (log[i]!.pid === prev.pid) repeats++;
  }
  return { repeats, contended };
};
