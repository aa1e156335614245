import type { AtomicLocker, LockHandle } from '../../src/shared/contract.js';
import { InvalidChannelError, LockLostError } from '../../src/shared/errors.js';

/** Faults a test can switch on at any time. */
export interface MemoryFaults {
  /** tryAcquire never answers. */
  hang?: boolean;
  /** tryAcquire rejects with this error. */
  fail?: unknown;
  /** release rejects with this error. */
  failRelease?: unknown;
}

/** What several MemoryLockers share: one in-memory "backend". */
export class MemoryBackend {
  readonly holders = new Map<string, { owner: object; lose: (reason: unknown) => void }>();
  readonly listeners = new Map<string, Set<() => void>>();
  tries = 0;

  /** Makes the current holder of `channel` lose its lock, as a backend fault would. */
  steal(channel: string): void {
    const holder = this.holders.get(channel);
    this.holders.delete(channel);
    holder?.lose(new Error('stolen by the test'));
  }

  notify(channel: string): void {
    for (const listener of [...(this.listeners.get(channel) ?? [])]) listener();
  }
}

/** An AtomicLocker on a MemoryBackend, with faults injected through `faults`. */
export class MemoryLocker implements AtomicLocker {
  readonly faults: MemoryFaults = {};

  constructor(readonly backend = new MemoryBackend(), readonly withRelease = true) {}

  async tryAcquire(channel: string): Promise<LockHandle | null> {
    if (typeof channel !== 'string' || channel === '') throw new InvalidChannelError(channel);
    this.backend.tries++;
    if (this.faults.hang) return new Promise(() => undefined);
    if (this.faults.fail) throw this.faults.fail;
    if (this.backend.holders.has(channel)) return null;
    const controller = new AbortController();
    const token = {};
    this.backend.holders.set(channel, { owner: token, lose: (reason) => controller.abort(new LockLostError(channel, reason)) });
    let released = false;
    return {
      channel,
      signal: controller.signal,
      release: async () => {
        if (released) return;
        if (this.faults.failRelease) throw this.faults.failRelease;
        released = true;
        if (this.backend.holders.get(channel)?.owner === token) this.backend.holders.delete(channel);
        this.backend.notify(channel);
      },
    };
  }

  onRelease(channel: string, listener: () => void): () => void {
    if (!this.withRelease) return () => undefined;
    let set = this.backend.listeners.get(channel);
    if (!set) this.backend.listeners.set(channel, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  private held = new Map<string, LockHandle>();

  async lock(resource: string | string[]): Promise<void> {
    const taken: LockHandle[] = [];
    for (const channel of [resource].flat()) {
      const handle = await this.tryAcquire(channel);
      if (!handle) {
        await Promise.all(taken.map((h) => h.release()));
        throw new Error(`channel ${channel} is locked`);
      }
      taken.push(handle);
    }
    for (const handle of taken) this.held.set(handle.channel, handle);
  }

  async unlock(resource: string | string[]): Promise<void> {
    for (const channel of [resource].flat()) {
      await this.held.get(channel)?.release();
      this.held.delete(channel);
    }
  }
}
