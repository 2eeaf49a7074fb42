// serveLean's connection limits with short timeouts (the RPC server passes node:http's own: 60 s
// for a head, 300 s for a request, 5 s idle), driven over real sockets.
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, expect, test } from 'vitest';
import { serveLean } from '../../src/rpc/lean-http.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

async function start(): Promise<{ port: number; sockets: Set<Socket> }> {
  const http = createHttpServer((_req, res) => res.end('node'));
  const sockets = new Set<Socket>();
  const opts = { maxHeaderBytes: 8192, maxBodyBytes: 10_000, cors: false, keepAliveMs: 5_000, headersMs: 300, requestMs: 600 };
  const server = createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    serveLean(s, http, (body) => Promise.resolve(`{"len":${body.length}}`), opts);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  if (!a || typeof a === 'string') throw new Error('no address');
  return { port: a.port, sockets };
}

/** Opens a half-open-capable connection that writes `first`, then `drip` every `everyMs` until the server closes it; returns what it read. */
function trickle(port: number, first: string, drip: string, everyMs: number): Promise<{ out: string; ms: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    let out = '';
    const s = connect({ host: '127.0.0.1', port, allowHalfOpen: true }, () => s.write(first));
    const timer = setInterval(() => {
      if (!s.destroyed && s.writable) s.write(drip);
    }, everyMs);
    s.setEncoding('latin1');
    s.on('data', (d: string) => (out += d));
    s.on('error', () => {});
    s.on('close', () => {
      clearInterval(timer);
      resolve({ out, ms: Date.now() - t0 });
    });
  });
}

test('a head that trickles in is answered 408 and closed once the head timeout passes, bytes arriving or not', async () => {
  const { port } = await start();
  const { out, ms } = await trickle(port, 'POST / HTTP/1.1\r\nHost: x\r\n', 'X', 50);
  expect(out).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
  expect(ms).toBeGreaterThanOrEqual(250);
});

test('a body that trickles in is answered 408 and closed once the request timeout passes', async () => {
  const { port } = await start();
  const { out, ms } = await trickle(port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n', 'x', 50);
  expect(out).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
  expect(ms).toBeGreaterThanOrEqual(550);
});

test('after a Connection: close answer nothing more is read and the socket closes, though the client keeps sending', async () => {
  const { port, sockets } = await start();
  const body = '{}';
  const { out } = await trickle(port, `POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: ${body.length}\r\n\r\n${body}`, 'y'.repeat(64 * 1024), 10);
  expect(out).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\nConnection: close\r\n[^]*\{"len":2\}$/);
  await expect.poll(() => sockets.size).toBe(0);
});

test('a body in many small chunks is read whole and answered once', async () => {
  const { port } = await start();
  const n = 9_000;
  const out = await new Promise<string>((resolve) => {
    let text = '';
    const s = connect({ host: '127.0.0.1', port }, async () => {
      s.write(`POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: ${n}\r\n\r\n`);
      for (let i = 0; i < n; i += 500) {
        s.write('z'.repeat(Math.min(500, n - i)));
        await new Promise((r) => setImmediate(r));
      }
    });
    s.setEncoding('latin1');
    s.on('data', (d: string) => (text += d));
    s.on('close', () => resolve(text));
  });
  expect(out).toMatch(new RegExp(`\\{"len":${n}\\}$`));
});
