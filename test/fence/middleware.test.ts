/** fenceRequests on a real node:http server: 409 for a stale token, 400 malformed, 428 missing. */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFenceGuard, fenceRequests } from '../../src/fence/index.js';

let server: Server;
let url: string;
const done: string[] = [];

beforeAll(async () => {
  const check = fenceRequests(createFenceGuard(), { resource: (req, channel) => `${new URL(req.url!, 'http://x').pathname}:${channel ?? ''}` });
  server = createServer((req, res) => {
    void check(req, res, () => {
      done.push(`${req.url} ${req.headers['x-fencing-token']}`);
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const send = async (path: string, token?: string) => {
  const res = await fetch(url + path, { headers: token === undefined ? {} : { 'x-fencing-token': token } });
  return res.status;
};

describe('fenceRequests', () => {
  it('passes fresh tokens on, answers 409 to a stale one, per resource', async () => {
    expect(await send('/a', '10')).toBe(200);
    expect(await send('/a', '11')).toBe(200);
    expect(await send('/a', '10')).toBe(409);
    expect(await send('/b', '3')).toBe(200);
    expect(done).toEqual(['/a 10', '/a 11', '/b 3']);
  });

  it('checks every channel of a several-channel header', async () => {
    expect(await send('/m', 'orders=5, stock=9')).toBe(200);
    expect(await send('/m', 'orders=6, stock=8')).toBe(409);
    expect(await send('/m', 'orders=7, stock=9')).toBe(200);
  });

  it('answers 400 to a malformed header and 428 to a missing one', async () => {
    expect(await send('/c', 'abc')).toBe(400);
    expect(await send('/c', '=5')).toBe(400);
    expect(await send('/c', 'a=%E0%A4%A')).toBe(400);
    expect(await send('/c')).toBe(428);
  });
});
