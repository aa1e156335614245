import type { AtomicLocker, LockHandle, ReleaseEvent, WaitTicket } from '../../src/shared/contract.js';
import { InvalidChannelError, LockLostError, LockTimeoutError } from '../../src/shared/errors.js';

/** Faults a test can switch on at any time. */
export interface MemoryFaults {
  /** tryAcquire never answers (true), or answers only once this promise has resolved. */
  hang?: boolean | Promise<unknown>;
  /** tryAcquire rejects with this error. */
  fail?: unknown;
  /** release rejects with this error. */
  failRelease?: unknown;
}

/** What several MemoryLockers share: one in-memory "backend". */
export class MemoryBackend {
  readonly holders = new Map<string, { owner: object; lose: (reason: unknown) => void }>();
  readonly listeners = new Map<string, Set<(event: ReleaseEvent) => void>>();
  /** Fair mode: waiting tickets per channel in arrival order, and locks handed to a ticket. */
  readonly lines = new Map<string, WaitTicket[]>();
  readonly grants = new Map<string, string>();
  tries = 0;

  constructor(readonly fair = false) {}

  /** Makes the current holder of `channel` lose its lock, as a backend fault would. */
  steal(channel: string): void {
    const holder = this.holders.get(channel);
    this.holders.delete(channel);
    holder?.lose(new Error('stolen by the test'));
  }

  notify(channel: string, event: ReleaseEvent = {}): void {
    for (const listener of [...(this.listeners.get(channel) ?? [])]) listener(event);
  }

  /** Fair mode: queues the ticket once, and drops it when its wait ends. */
  enqueue(channel: string, ticket: WaitTicket): void {
    const line = this.lines.get(channel) ?? [];
    this.lines.set(channel, line);
    if (line.includes(ticket)) return;
    line.push(ticket);
    ticket.signal.addEventListener('abort', () => line.includes(ticket) && line.splice(line.indexOf(ticket), 1), { once: true });
  }
}

/** An AtomicLocker on a MemoryBackend, with faults injected through `faults`. */
export class MemoryLocker implements AtomicLocker {
  readonly faults: MemoryFaults = {};

  constructor(readonly backend = new MemoryBackend(), readonly withRelease = true) {}

  async tryAcquire(channel: string, ticket?: WaitTicket): Promise<LockHandle | null> {
    if (typeof channel !== 'string' || channel === '') throw new InvalidChannelError(channel);
    this.backend.tries++;
    if (this.faults.hang === true) return new Promise(() => undefined);
    if (this.faults.hang) await this.faults.hang;
    if (this.faults.fail) throw this.faults.fail;
    const { backend } = this;
    const granted = ticket && backend.grants.get(ticket.id) === channel;
    if (granted) backend.grants.delete(ticket.id);
    else if (backend.holders.has(channel) || (backend.fair && (backend.lines.get(channel)?.length ?? 0) > 0)) {
      if (backend.fair && ticket) backend.enqueue(channel, ticket);
      return null;
    }
    return this.take(channel);
  }

  private take(channel: string): LockHandle {
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
        if (this.backend.holders.get(channel)?.owner !== token) return;
        this.backend.holders.delete(channel);
        const next = this.backend.fair ? this.backend.lines.get(channel)?.shift() : undefined;
        if (!next) return this.backend.notify(channel);
        // Fair handoff: the lock goes to the head of the line, who picks it up with its next try.
        this.backend.holders.set(channel, { owner: next, lose: () => undefined });
        this.backend.grants.set(next.id, channel);
        this.backend.notify(channel, { grantedTo: next.id });
      },
    };
  }

  onRelease(channel: string, listener: (event: ReleaseEvent) => void): () => void {
    if (!this.withRelease) return () => undefined;
    let set = this.backend.listeners.get(channel);
    if (!set) this.backend.listeners.set(channel, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  private held = new Map<string, LockHandle>();

  /** alova's interface, as the adapters have it: every channel or none; a held one rejects at once with LockTimeoutError. */
  async lock(resource: string | string[]): Promise<void> {
    const started = Date.now();
    const taken: LockHandle[] = [];
    for (const channel of [resource].flat()) {
      const handle = await this.tryAcquire(channel);
      if (!handle) {
        await Promise.all(taken.map((h) => h.release()));
        throw new LockTimeoutError(channel, 0, Date.now() - started);
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
