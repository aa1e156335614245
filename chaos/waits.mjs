// "Longest wait after a fault", per channel so that a later fault is not blamed for an earlier one.
//
// A fault blocks each channel it touched that no earlier fault blocks still: the fault owns it until
// the next request arrives on it (from another process than the faulted one). A channel an earlier
// fault still blocks is not the later fault's: it stays with the earlier one. The wait of a fault is
// the longest time from the fault to that next arrival over the channels it owns; a channel no arrival
// unblocked before the calls stopped counts up to that moment (a lower bound). A fault that owns no
// channel (all were blocked already, or it touched none) has no wait of its own.
export const createWaits = () => {
  const blocked = new Map(); // channel -> the wait that owns it
  const waits = []; // { fault, channels, ms, open }
  let covered = 0; // faults whose channels were all blocked already
  return {
    fault: (fault) => {
      const own = fault.channels.filter((channel) => !blocked.has(channel));
      if (own.length === 0) {
        if (fault.channels.length > 0) covered++;
        return;
      }
      const wait = { fault, channels: own, ms: 0, open: false };
      for (const channel of own) blocked.set(channel, wait);
      waits.push(wait);
    },
    arrival: (entry) => {
      const wait = blocked.get(entry.channel);
      if (!wait || entry.start <= wait.fault.at || entry.pid === wait.fault.pid) return;
      blocked.delete(entry.channel);
      wait.ms = Math.max(wait.ms, entry.start - wait.fault.at);
    },
    /**
     * Closes the channels still blocked at `at`; returns the longest wait { ms, fault, open } (open:
     * one of its channels saw no arrival before the end) and how many faults had no channel of their own.
     */
    finish: (at) => {
      for (const wait of blocked.values()) {
        wait.ms = Math.max(wait.ms, at - wait.fault.at);
        wait.open = true;
      }
      blocked.clear();
      const longest = waits.reduce((best, wait) => (wait.ms > best.ms ? wait : best), { ms: 0 });
      return { ...longest, covered };
    },
  };
};
