import type { ReleaseEvent } from '../../shared/contract.js';
import { notifyChannelOf } from '../cache/keys.js';
import type { Link } from '../connection/link.js';
import { duplicateLink } from '../connection/open-link.js';

const noop = (): void => undefined;
const RECENT = 256;
/** How long a channel stays subscribed after its last listener left, ms. */
const LINGER_MS = 5000;

type Listener = (event?: ReleaseEvent) => void;

interface Entry {
  readonly listener: Listener;
}

/**
 * Release notifications, by Redis pub/sub: one subscriber connection per voter, opened on the first
 * listener, shared by all listeners of the adapter. A channel is subscribed while it has listeners. A
 * release published by several quorum servers reaches each listener once. Subscriber failures are
 * swallowed: waiters poll anyway. A fair handoff's message `grant:<ticket id>` names the grantee in
 * the event.
 */
export class ReleaseNotifier {
  #subs: Link[] | undefined;
  readonly #listeners = new Map<string, Set<Entry>>();
  readonly #recent = new Map<string, true>();
  readonly #lingering = new Map<string, NodeJS.Timeout>();

  constructor(private readonly voters: readonly Link[]) {}

  /**
   * Calls `listener` when the lock at `key` may have been released; returns the unsubscribe function.
   * A channel stays subscribed for `LINGER_MS` after its last listener left, so that a process that
   * waits again and again sends no SUBSCRIBE / UNSUBSCRIBE per wait.
   */
  subscribe(key: string, listener: Listener): () => void {
    const subs = (this.#subs ??= this.#open());
    let entries = this.#listeners.get(key);
    if (!entries) {
      this.#listeners.set(key, (entries = new Set()));
      for (const sub of subs) sub.client.subscribe(notifyChannelOf(sub, key)).catch(noop);
    }
    clearTimeout(this.#lingering.get(key));
    this.#lingering.delete(key);
    const entry: Entry = { listener };
    entries.add(entry);
    const mine = entries;
    return () => {
      if (!mine.delete(entry) || mine.size > 0 || this.#listeners.get(key) !== mine) return;
      const timer = setTimeout(() => {
        this.#lingering.delete(key);
        if (mine.size > 0 || this.#listeners.get(key) !== mine) return;
        this.#listeners.delete(key);
        for (const sub of subs) sub.client.unsubscribe(notifyChannelOf(sub, key)).catch(noop);
      }, LINGER_MS);
      timer.unref?.();
      this.#lingering.set(key, timer);
    };
  }

  /** Closes the subscriber connections (the adapter's own). */
  async close(ms: number): Promise<void> {
    const subs = this.#subs ?? [];
    for (const timer of this.#lingering.values()) clearTimeout(timer);
    this.#lingering.clear();
    this.#listeners.clear();
    await Promise.all(subs.map((sub) => sub.close(ms)));
  }

  #open(): Link[] {
    return this.voters.map((voter) => {
      const sub = duplicateLink(voter);
      const prefix = sub.client.options.keyPrefix ?? '';
      sub.client.on('message', (channel: string, value: string) => {
        if (channel.startsWith(prefix)) this.#deliver(channel.slice(prefix.length), value);
      });
      sub.client.on('ready', () => {
        const channels = [...this.#listeners.keys()].map((key) => notifyChannelOf(sub, key));
        if (channels.length > 0) sub.client.subscribe(...channels).catch(noop);
      });
      return sub;
    });
  }

  #deliver(key: string, value: string): void {
    const id = `${key}\n${value}`;
    if (this.#recent.has(id)) return;
    this.#recent.set(id, true);
    if (this.#recent.size > RECENT) this.#recent.delete(this.#recent.keys().next().value as string);
    const grantedTo = value.startsWith('grant:') ? value.slice(6) : undefined;
    const event: ReleaseEvent = grantedTo === undefined ? {} : { grantedTo };
    const entries = this.#listeners.get(key);
    for (const entry of [...(entries ?? [])]) {
      if (!entries?.has(entry)) continue;
      try {
        entry.listener(event);
      } catch {
        // A listener's failure is its own; the others still hear.
      }
    }
  }
}
