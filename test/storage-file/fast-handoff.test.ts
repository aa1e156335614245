/**
 * The fair file line without needless work (issue 11): a waiter answers its attempts from what it last
 * read while the line's watch says nothing changed, the lock is taken at a release for the waiter known
 * to be next (and handed to it), the first in line leaves its file as soon as it made the lock directory,
 * and a token is written alongside its reading. Each shortcut must keep what the line promised: a waiter
 * is never stuck behind a ticket that left, a lock handed to a wait that ended is given back at once, a
 * waiter that cannot finish its acquisition keeps its place, tokens keep growing.
 */
import fs, { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join, sep } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LockHandle, ReleaseEvent, WaitTicket } from '../../src/shared/contract.js';
import { FileStorageAdapter, type FileStorageAdapterOptions } from '../../src/storage-file/index.js';
import { nextToken } from '../../src/storage-file/lock/fence-file.js';
import { fsPromises } from '../../src/storage-file/fs/fs-promises.js';
import { ReleaseNotifier } from '../../src/storage-file/notify/release-notifier.js';
import { cleanup, tempDir, waitFor } from './helpers.js';

afterAll(cleanup);

/** A wait ticket whose `interval` is long: an answer from memory cannot expire during a test. */
const newTicket = (): WaitTicket & { end: () => void } => {
  const ending = new AbortController();
  return { id: randomUUID(), signal: ending.signal, interval: 60_000, end: () => ending.abort() };
};

const lineOf = (directory: string, channel: string) => join(directory, 'lines', `e-${channel}.lock`);
const ticketsIn = (directory: string, channel: string): string[] =>
  existsSync(lineOf(directory, channel)) ? readdirSync(lineOf(directory, channel)).sort() : [];

const adapter = (directory: string, options: Partial<FileStorageAdapterOptions> = {}) => new FileStorageAdapter({ directory, ...options });

/** node:fs whose every call is counted, by method. */
const countingFs = () => {
  const calls: string[] = [];
  const counted = Object.create(fs) as typeof fs & Record<string, unknown>;
  for (const name of ['lstat', 'stat', 'readdir', 'mkdir', 'rmdir', 'open', 'read', 'write', 'close', 'rename', 'unlink', 'writeFile', 'readFile', 'lutimes', 'utimes']) {
    const method = (fs as unknown as Record<string, (...args: unknown[]) => unknown>)[name]!;
    counted[name] = (...args: unknown[]) => {
      calls.push(name);
      return method.apply(fs, args);
    };
  }
  return { fs: counted, calls };
};

describe('a waiter that read the line', () => {
  it('answers its next attempts from that reading, touching no file, while the ticket ahead stays', async () => {
    const directory = tempDir('memory');
    const [holder, ahead] = [adapter(directory), adapter(directory)];
    const counting = countingFs();
    const waiter = adapter(directory, { lockerOptions: { fs: counting.fs } });
    const held = await holder.locker.tryAcquire('c');
    const [ta, tw] = [newTicket(), newTicket()];
    expect(await ahead.locker.tryAcquire('c', ta)).toBeNull();
    expect(await waiter.locker.tryAcquire('c', tw)).toBeNull(); // joins
    expect(await waiter.locker.tryAcquire('c', tw)).toBeNull(); // reads: behind `ahead`
    counting.calls.length = 0;
    for (let i = 0; i < 5; i++) expect(await waiter.locker.tryAcquire('c', tw)).toBeNull();
    expect(counting.calls).toEqual([]);
    ta.end();
    tw.end();
    await held!.release();
    await Promise.all([holder.close(), ahead.close(), waiter.close()]);
  });

  it('is never stuck behind a ticket that left: its next attempts find it gone (the watch tells), long before its interval', async () => {
    const directory = tempDir('left');
    const [ahead, waiter] = [adapter(directory, { notify: false }), adapter(directory, { notify: false })];
    const holder = adapter(directory);
    const held = await holder.locker.tryAcquire('c');
    const [ta, tw] = [newTicket(), newTicket()];
    expect(await ahead.locker.tryAcquire('c', ta)).toBeNull();
    expect(await waiter.locker.tryAcquire('c', tw)).toBeNull();
    expect(await waiter.locker.tryAcquire('c', tw)).toBeNull(); // behind `ahead`
    await held!.release();
    ta.end(); // its file goes; no release wakes anyone
    const started = Date.now();
    const mine = await waitFor(() => waiter.locker.tryAcquire('c', tw), 'the waiter to find the ticket ahead gone');
    // Not by time: the ticket's interval is a minute, and the ticket it read goes stale only after 5 s.
    expect(Date.now() - started).toBeLessThan(2_000);
    tw.end();
    await mine.release();
    await Promise.all([holder.close(), ahead.close(), waiter.close()]);
  });
});

describe('the lock handed at a release to the waiter known to be next', () => {
  /** `waiter` first in line (it read the line while `holder` held the channel), listening for releases. */
  const nextInLine = async (label: string) => {
    const directory = tempDir(label);
    const [holder, waiter, other] = [adapter(directory), adapter(directory), adapter(directory)];
    const held = await holder.locker.tryAcquire('c');
    const ticket = newTicket();
    const events: Array<ReleaseEvent | undefined> = [];
    const off = waiter.locker.onRelease!('c', (event) => events.push(event));
    expect(await waiter.locker.tryAcquire('c', ticket)).toBeNull(); // joins
    expect(await waiter.locker.tryAcquire('c', ticket)).toBeNull(); // reads: first, the channel held
    await held!.release();
    await waitFor(() => events.some((event) => event?.grantedTo === ticket.id), 'the handoff to be announced');
    const done = async () => {
      off();
      await Promise.all([holder.close(), waiter.close(), other.close()]);
    };
    return { directory, waiter, other, ticket, done };
  };

  it('is announced to its listeners (grantedTo: its ticket) and is its next attempt: one holder, a fresh token', async () => {
    const { waiter, other, ticket, done } = await nextInLine('handoff');
    expect(await other.locker.tryAcquire('c')).toBeNull(); // held for the waiter
    const mine = await waiter.locker.tryAcquire('c', ticket);
    expect(mine).not.toBeNull();
    expect(mine!.token).toBeGreaterThan(0);
    ticket.end();
    expect(await other.locker.tryAcquire('c')).toBeNull();
    await mine!.release();
    const next = await other.locker.tryAcquire('c');
    expect(next).not.toBeNull();
    expect(next!.token).toBeGreaterThan(mine!.token!);
    await next!.release();
    await done();
  });

  it('is given back at once when the wait ends before claiming it: the channel is free for others', async () => {
    const { directory, other, ticket, done } = await nextInLine('handoff-ended');
    ticket.end(); // the wait gave up (deadline, abort) without another attempt
    const next = await waitFor(() => other.locker.tryAcquire('c'), 'the handed lock to be given back');
    expect(ticketsIn(directory, 'c')).toEqual([]);
    await next.release();
    await done();
  });
});

describe('a release heard by a waiter known to be behind a live ticket', () => {
  /** Tickets and locks renewed every 15 s: no renewal changes what the waiters know during a test. */
  const quiet = (directory: string, options: Partial<FileStorageAdapterOptions> = {}) =>
    adapter(directory, { lockerOptions: { stale: 30_000, update: 15_000 }, ...options });

  /**
   * `waiter` waits on 'c' behind `ahead`, and first in line on 'd'; its listeners come with their
   * tickets (as atomize's do), and a listener without a ticket listens to 'c' too. `holder` holds both.
   */
  const behindAhead = async (label: string, aheadOptions: Partial<FileStorageAdapterOptions> = {}) => {
    const directory = tempDir(label);
    const [holder, ahead, waiter] = [quiet(directory), quiet(directory, aheadOptions), quiet(directory)];
    const [heldC, heldD] = [await holder.locker.tryAcquire('c'), await holder.locker.tryAcquire('d')];
    const [ta, tw, td] = [newTicket(), newTicket(), newTicket()];
    const heard = { ahead: [] as Array<ReleaseEvent | undefined>, c: [] as Array<ReleaseEvent | undefined>, d: [] as Array<ReleaseEvent | undefined>, plain: [] as Array<ReleaseEvent | undefined> };
    const offs = [
      ...(ahead.locker.onRelease ? [ahead.locker.onRelease('c', (event) => heard.ahead.push(event), ta)] : []),
      waiter.locker.onRelease!('c', (event) => heard.c.push(event), tw),
      waiter.locker.onRelease!('d', (event) => heard.d.push(event), td),
    ];
    expect(await ahead.locker.tryAcquire('c', ta)).toBeNull(); // joins
    expect(await ahead.locker.tryAcquire('c', ta)).toBeNull(); // reads: first
    expect(await waiter.locker.tryAcquire('c', tw)).toBeNull(); // joins
    expect(await waiter.locker.tryAcquire('c', tw)).toBeNull(); // reads: behind `ahead`
    expect(await waiter.locker.tryAcquire('d', td)).toBeNull(); // joins
    expect(await waiter.locker.tryAcquire('d', td)).toBeNull(); // reads: first
    const done = async (...handles: Array<LockHandle | null>) => {
      for (const off of offs) off();
      await Promise.all(handles.map((handle) => handle?.release()));
      await Promise.all([holder.close(), ahead.close(), waiter.close()]);
    };
    return { holder, ahead, waiter, heldC: heldC!, heldD: heldD!, ta, tw, td, heard, offs, done };
  };

  /**
   * `holder` releases 'c' and, once `ahead` was handed 'c', releases 'd': the waiter's watch reports the
   * removals in that order, so its handoff of 'd' comes after it saw the release of 'c'.
   */
  it("is left alone (the waiter's listener is not called), and its turn still comes when the ticket ahead leaves", async () => {
    const { ahead, waiter, heldC, heldD, ta, tw, td, heard, done } = await behindAhead('behind');
    await heldC.release();
    await waitFor(() => heard.ahead.some((event) => event?.grantedTo === ta.id), "the handoff of 'c' to `ahead`");
    await heldD.release();
    await waitFor(() => heard.d.some((event) => event?.grantedTo === td.id), "the handoff of 'd' to the waiter");
    expect(heard.c).toEqual([]);
    const mineD = await waiter.locker.tryAcquire('d', td);
    const aheadC = await ahead.locker.tryAcquire('c', ta);
    expect([mineD, aheadC]).not.toContain(null);
    // `ahead` left the line with the lock: the waiter is first now, and hears the next release.
    await aheadC!.release();
    await waitFor(() => heard.c.some((event) => event?.grantedTo === tw.id), "the handoff of 'c' to the waiter");
    const mineC = await waiter.locker.tryAcquire('c', tw);
    expect(mineC).not.toBeNull();
    await done(mineC, mineD);
  });

  it('is still heard by a listener without a ticket (the wait behind is not woken), and the wait hears of it when its turn comes', async () => {
    // `ahead` hears no release (notify off): 'c' stays free after its release, whenever the lstat comes.
    const { waiter, heldC, heldD, ta, tw, td, heard, offs, done } = await behindAhead('behind-plain', { notify: false });
    offs.push(waiter.locker.onRelease!('c', (event) => heard.plain.push(event)));
    await heldC.release();
    await heldD.release();
    await waitFor(() => heard.d.some((event) => event?.grantedTo === td.id), "the handoff of 'd' to the waiter");
    await waitFor(() => heard.plain.includes(undefined), "the release of 'c' to reach the listener without a ticket");
    expect(heard.c).toEqual([]); // the wait's own listener is not woken: `ahead` is first
    ta.end(); // `ahead` stops waiting: the release the wait was kept from is looked at again
    await waitFor(() => heard.c.some((event) => event?.grantedTo === tw.id), "the handoff of 'c' to the waiter");
    await done(await waiter.locker.tryAcquire('c', tw), await waiter.locker.tryAcquire('d', td));
  });

  it('is looked at again when the ticket ahead leaves without taking the lock: the waiter gets it at once', async () => {
    // `ahead` hears no release (notify off) and tries again only at its interval (a minute).
    const { waiter, heldC, heldD, ta, tw, td, heard, done } = await behindAhead('behind-left', { notify: false });
    await heldC.release();
    await heldD.release();
    await waitFor(() => heard.d.some((event) => event?.grantedTo === td.id), "the handoff of 'd' to the waiter");
    expect(heard.c).toEqual([]); // 'c' is free, and left alone: `ahead` is first
    ta.end(); // `ahead` stops waiting: its ticket goes
    await waitFor(() => heard.c.some((event) => event?.grantedTo === tw.id), "the handoff of 'c' to the waiter");
    const mineC = await waiter.locker.tryAcquire('c', tw);
    expect(mineC).not.toBeNull();
    await done(mineC, await waiter.locker.tryAcquire('d', td));
  });
});

describe('the first in line that cannot finish its acquisition', () => {
  it('keeps its place: its ticket is back (same name) before the lock is given back, and the waiter behind it gets null', async () => {
    const directory = tempDir('give-back');
    const enospc = (): NodeJS.ErrnoException => Object.assign(new Error('ENOSPC: no space left on device, open'), { code: 'ENOSPC' });
    // Its fencing token cannot be written: a full disk under fences/ (for new files).
    const fences = join(directory, 'fences') + sep;
    const open = (path: string, ...rest: unknown[]): void => {
      if (String(path).startsWith(fences) && String(path).endsWith('.tmp')) return (rest.at(-1) as (error: Error) => void)(enospc());
      (fs.open as (...args: unknown[]) => void)(path, ...rest);
    };
    const holder = adapter(directory);
    const first = adapter(directory, { notify: false, lockerOptions: { fs: { ...fs, open } } });
    const behind = adapter(directory, { notify: false });
    const held = await holder.locker.tryAcquire('c');
    const [t1, t2] = [newTicket(), newTicket()];
    expect(await first.locker.tryAcquire('c', t1)).toBeNull();
    expect(await behind.locker.tryAcquire('c', t2)).toBeNull();
    const line = ticketsIn(directory, 'c');
    expect(line).toHaveLength(2);
    await held!.release();
    await expect(first.locker.tryAcquire('c', t1)).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(ticketsIn(directory, 'c')).toEqual(line);
    expect(await behind.locker.tryAcquire('c', t2)).toBeNull();
    expect(readdirSync(join(directory, 'locks'))).toEqual([]);
    t1.end();
    const next = await waitFor(() => behind.locker.tryAcquire('c', t2), 'the waiter behind to be first');
    t2.end();
    await next.release();
    await Promise.all([holder.close(), first.close(), behind.close()]);
  });
});

describe('fencing tokens written alongside their reading', () => {
  const files = fsPromises(fs);

  it('a token file ahead of the clock: the next token is one above it, and no temporary file is left', async () => {
    const folder = tempDir('fence-ahead');
    const path = join(folder, 'e-c.fence');
    const ahead = Date.now() * 1000 + 3_600_000_000; // an hour ahead
    writeFileSync(path, String(ahead));
    expect(await nextToken(files, path, 0o600)).toBe(ahead + 1);
    expect(readFileSync(path, 'utf8')).toBe(String(ahead + 1));
    expect(readdirSync(folder)).toEqual(['e-c.fence']);
  });

  it('tokens made one after another strictly grow (also within one millisecond), each one in the file', async () => {
    const folder = tempDir('fence-burst');
    const path = join(folder, 'e-c.fence');
    let last = 0;
    for (let i = 0; i < 50; i++) {
      const token = await nextToken(files, path, 0o600);
      expect(token).toBeGreaterThan(last);
      expect(Number(readFileSync(path, 'utf8'))).toBe(token);
      last = token;
    }
    expect(readdirSync(folder)).toEqual(['e-c.fence']);
  });
});

describe('release watcher, lock made and removed over and over', () => {
  it('calls the listeners at each removal, never at a making', async () => {
    const folder = join(tempDir('watch-cycles'), 'locks');
    mkdirSync(folder, { recursive: true });
    const watcher = new ReleaseNotifier(folder);
    let heard = 0;
    let barrier = false;
    const offs = [watcher.subscribe('x.lock', () => heard++), watcher.subscribe('y.lock', () => (barrier = true))];
    for (let i = 1; i <= 20; i++) {
      mkdirSync(join(folder, 'x.lock'));
      // Once y's release is heard, the making of x.lock (earlier) was seen too.
      barrier = false;
      mkdirSync(join(folder, 'y.lock'));
      rmdirSync(join(folder, 'y.lock'));
      await waitFor(() => barrier, "y's release");
      expect(heard).toBe(i - 1);
      rmdirSync(join(folder, 'x.lock'));
      await waitFor(() => heard === i, "x's release");
    }
    for (const off of offs) off();
    watcher.close();
  });
});

// Keeps the type import used when the suite is trimmed.
export type { LockHandle };
