import { randomUUID } from 'node:crypto';
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

/** This adapter's own grant channel (fair handoff): see {@link ReleaseNotifier.grantChannel}. */
interface Grants {
  /** The channel's key, without the client's keyPrefix. */
  readonly key: string;
  readonly tag: string;
  readonly onGrant: (key: string, ticket: string) => void;
  /** Subscribed, and the subscriber's connection has not dropped since. */
  heard: boolean;
  /** The latest SUBSCRIBE to the channel: true once Redis confirmed it. */
  subscribing?: Promise<boolean>;
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
  /** Stops following the voters' 'end' (see `#open`). */
  #unfollow: (() => void) | undefined;
  /** Subscribers dropped because a voter ended, still closing. */
  readonly #dropping = new Set<Promise<unknown>>();
  readonly #listeners = new Map<string, Set<Entry>>();
  readonly #recent = new Map<string, true>();
  readonly #lingering = new Map<string, NodeJS.Timeout>();
  #grants: Grants | undefined;

  /** @param bound how long a subscriber's QUIT may take when it is closed, ms */
  constructor(
    private readonly voters: readonly Link[],
    private readonly bound = 1050,
  ) {}

  /**
   * Calls `listener` when the lock at `key` may have been released; returns the unsubscribe function.
   * A channel stays subscribed for `LINGER_MS` after its last listener left, so that a process that
   * waits again and again sends no SUBSCRIBE / UNSUBSCRIBE per wait.
   */
  subscribe(key: string, listener: Listener): () => void {
    const subs = (this.#subs ??= this.#open()) ?? [];
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
        for (const sub of this.#subs ?? []) sub.client.unsubscribe(notifyChannelOf(sub, key)).catch(noop);
      }, LINGER_MS);
      timer.unref?.();
      this.#lingering.set(key, timer);
    };
  }

  /**
   * Grants to this adapter's waiters are announced on a channel of its own, `${prefix}${tag}`
   * (subscribed with the first listener), as `<ticket>\n<lock key>`: the key's listeners hear
   * `{ grantedTo }`, then `onGrant(key, ticket)`. Returns the tag.
   */
  grantChannel(prefix: string, onGrant: (key: string, ticket: string) => void): string {
    const tag = randomUUID();
    this.#grants = { key: prefix + tag, tag, onGrant, heard: false };
    return tag;
  }

  /** The grant channel's tag while grants published there reach this process (subscribed, connected). */
  get grantTag(): string | undefined {
    return this.#subs && this.#grants?.heard ? this.#grants.tag : undefined;
  }

  /**
   * The grant channel's tag once its subscription is confirmed, waiting at most `ms` for one under
   * way (the first listener opens it); undefined when grants cannot reach this process now.
   */
  async heardTag(ms: number): Promise<string | undefined> {
    const pending = this.#subs && !this.#grants?.heard ? this.#grants?.subscribing : undefined;
    if (pending) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([pending, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
      clearTimeout(timer);
    }
    return this.grantTag;
  }

  /** Closes the subscriber connections (the adapter's own). */
  async close(ms: number): Promise<void> {
    const subs = this.#subs ?? [];
    if (this.#grants) this.#grants.heard = false;
    this.#unfollow?.();
    for (const timer of this.#lingering.values()) clearTimeout(timer);
    this.#lingering.clear();
    this.#listeners.clear();
    await Promise.all([...subs.map((sub) => sub.close(ms)), ...this.#dropping]);
  }

  /**
   * One subscriber per voter, or none while a voter's connection has ended for good (a `client` its
   * owner quit): a subscriber would then be the only connection left, keeping the process alive.
   * Subscribers follow their voters: when one ends, they are closed (waiters poll meanwhile), and the
   * next listener opens new ones if the voters connect again.
   */
  #open(): Link[] | undefined {
    if (this.voters.some((voter) => voter.client.status === 'end')) return undefined;
    const subs = this.#subscribers();
    const follow = (): void => {
      if (this.#subs !== subs) return;
      this.#subs = undefined;
      this.#unfollow?.();
      const closing = Promise.all(subs.map((sub) => sub.close(this.bound)));
      this.#dropping.add(closing);
      void closing.finally(() => this.#dropping.delete(closing));
    };
    for (const voter of this.voters) voter.client.on('end', follow);
    this.#unfollow = () => {
      this.#unfollow = undefined;
      for (const voter of this.voters) voter.client.off('end', follow);
    };
    return subs;
  }

  #subscribers(): Link[] {
    return this.voters.map((voter) => {
      const sub = duplicateLink(voter);
      const prefix = sub.client.options.keyPrefix ?? '';
      const grants = this.#grants;
      const grantChannel = grants && notifyChannelOf(sub, grants.key);
      const heard = (): void => {
        if (grants && this.#subs?.includes(sub)) grants.heard = true;
      };
      sub.client.on('message', (channel: string, value: string) => {
        if (channel === grantChannel) this.#granted(value, prefix);
        else if (channel.startsWith(prefix)) this.#deliver(channel.slice(prefix.length), value);
      });
      sub.client.on('ready', () => {
        const channels = [...this.#listeners.keys()].map((key) => notifyChannelOf(sub, key));
        if (channels.length > 0) sub.client.subscribe(...channels).catch(noop);
        if (grantChannel) subscribeGrants();
      });
      sub.client.on('close', () => {
        if (grants) grants.heard = false;
      });
      const subscribeGrants = (): void => {
        grants!.subscribing = sub.client.subscribe(grantChannel!).then(
          () => (heard(), true),
          () => false,
        );
      };
      if (grantChannel) subscribeGrants();
      return sub;
    });
  }

  /**
   * A grant on this adapter's channel: `<ticket>\n<lock key as the server has it>` (a ticket has no
   * newline; a key may). Each is delivered, also a second grant to one ticket (it lost the first).
   */
  #granted(message: string, prefix: string): void {
    const newline = message.indexOf('\n');
    const [ticket, serverKey] = [message.slice(0, newline), message.slice(newline + 1)];
    if (newline < 0 || !serverKey.startsWith(prefix)) return;
    const key = serverKey.slice(prefix.length);
    const id = ticket.split('|').slice(2).join('|');
    this.#deliver(key, `grant:${id}`, false);
    this.#grants?.onGrant(key, ticket);
  }

  /** Tells the key's listeners; `once`: a message that several quorum servers publish reaches them once. */
  #deliver(key: string, value: string, once = true): void {
    const id = `${key}\n${value}`;
    if (once && this.#recent.has(id)) return;
    if (once) this.#recent.set(id, true);
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
