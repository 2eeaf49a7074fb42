import fc from 'fast-check';
import { request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import type { Json, JsonObject } from '../../src/codec/index.js';
import { DEFAULT_RPC_SERVER_OPTIONS, RpcError, RpcServer, SERVER_ERROR, type RpcMethod } from '../../src/rpc/index.js';

const SEED = 0x59c;
const silent = { info: () => {}, warn: () => {}, debug: () => {} };

const methods = new Map<string, RpcMethod>([
  ['echo', { params: ['text', 'height', 'data', 'flag'], handler: (p) => ({ text: p.string('text') ?? null, height: p.int('height', { min: 0 }) ?? null, data: Buffer.from(p.bytes('data', 'hex') ?? []).toString('hex'), flag: p.bool('flag') ?? null }) }],
  ['fail', { params: [], handler: () => { throw new RpcError(SERVER_ERROR, 'height 99 must be less than or equal to the current blockchain height 5'); } }],
  ['crash', { params: [], handler: () => { throw new TypeError('boom'); } }],
  ['slow', { params: [], handler: () => new Promise<Json>((resolve) => setTimeout(() => resolve({ text: 'slow' }), 100)) }],
  ['wait', { params: ['ms'], handler: (p) => new Promise<Json>((resolve) => setTimeout(() => resolve({ text: 'waited' }), p.int('ms') ?? 0)) }],
  ['spam', { params: ['n'], wsOnly: true, handler: (p, ctx) => { const n = p.int('n') ?? 0; for (let i = 0; i < n; i++) ctx.ws!.send({ jsonrpc: '2.0', id: ctx.id, result: { i, pad: 'x'.repeat(10_000) } }); return {}; } }],
]);

let server: RpcServer;
let base: string;
let port: number;

beforeAll(async () => {
  server = new RpcServer({ ...DEFAULT_RPC_SERVER_OPTIONS, port: 0, maxBodyBytes: 10_000, maxHeaderBytes: 8_192, wsSendBufferBytes: 50_000, corsAllowedOrigins: ['https://app.example'] }, { methods, logger: silent });
  await server.start();
  port = server.address().port;
  base = `http://127.0.0.1:${port}`;
});
afterAll(() => server.stop());

async function post(body: string, headers: Record<string, string> = {}): Promise<{ status: number; json: Json | undefined; headers: Headers }> {
  const r = await fetch(base, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  const text = await r.text();
  return { status: r.status, json: text ? (JSON.parse(text) as Json) : undefined, headers: r.headers };
}

const call = (method: string, params: Json, id: Json = 1): string => JSON.stringify({ jsonrpc: '2.0', id, method, params });

describe('JSON-RPC over HTTP POST', () => {
  test('object and array params, id echoed with its JSON type', async () => {
    const a = await post(call('echo', { text: 'hi', height: '7', data: 'ABCD', flag: true }, 'abc'));
    expect(a.json).toEqual({ jsonrpc: '2.0', id: 'abc', result: { text: 'hi', height: 7, data: 'abcd', flag: true } });
    const b = await post(call('echo', ['hi', 3], 5));
    expect(b.json).toMatchObject({ id: 5, result: { text: 'hi', height: 3 } });
  });

  test('CometBFT error shapes, HTTP 200', async () => {
    const cases: [string, number][] = [
      ['{"jsonrpc":"2.0",', -32700],
      [call('nope', {}), -32601],
      [call('echo', { height: 'x' }), -32602],
      [call('echo', { height: '-1' }), -32602],
      [call('echo', [1, 2, 3, 4, 5]), -32602],
      [call('fail', {}), -32000],
      [call('crash', {}), -32603],
      ['{"id":1,"method":5}', -32600],
      ['[]', -32600],
      ['"just a string"', -32600],
      [call('spam', { n: 1 }), -32601], // websocket-only over HTTP
    ];
    for (const [body, code] of cases) {
      const r = await post(body);
      expect(r.status, body).toBe(200);
      const err = (r.json as JsonObject).error as JsonObject;
      expect(err.code, body).toBe(code);
      expect(typeof err.message).toBe('string');
      expect(JSON.stringify(r.json)).not.toMatch(/at .*\.ts:\d+/); // no stack traces
    }
  });

  test('batches: answered in order, notifications skipped, size limited', async () => {
    const r = await post(`[${call('echo', { text: 'a' }, 1)},{"jsonrpc":"2.0","method":"echo"},${call('nope', {}, 2)}]`);
    expect((r.json as JsonObject[]).map((x) => x.id)).toEqual([1, 2]);
    const big = await post(`[${Array.from({ length: 11 }, (_, i) => call('echo', {}, i)).join(',')}]`);
    expect(((big.json as JsonObject).error as JsonObject).code).toBe(-32600);
    const onlyNotifications = await post('{"jsonrpc":"2.0","method":"echo"}');
    expect(onlyNotifications.status).toBe(204);
  });

  test('max_request_batch_size = 0: a batch of any size is answered', async () => {
    const unlimited = new RpcServer({ ...DEFAULT_RPC_SERVER_OPTIONS, port: 0, maxBatchRequests: 0 }, { methods, logger: silent });
    await unlimited.start();
    try {
      const r = await fetch(`http://127.0.0.1:${unlimited.address().port}`, { method: 'POST', body: `[${Array.from({ length: 25 }, (_, i) => call('echo', {}, i)).join(',')}]` });
      expect(((await r.json()) as JsonObject[]).map((x) => x.id)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    } finally {
      await unlimited.stop();
    }
  });

  test('oversized bodies get 413 and the server keeps serving', async () => {
    const r = await post(call('echo', { text: 'x'.repeat(20_000) }));
    expect(r.status).toBe(413);
    const ok = await post(call('echo', { text: 'after' }));
    expect(ok.json).toMatchObject({ result: { text: 'after' } });
  });

  test('headers beyond max_header_bytes get 431 and the server keeps serving; within it they pass', async () => {
    const within = await post(call('echo', { text: 'big header' }), { 'x-note': 'a'.repeat(6_000) });
    expect(within.json).toMatchObject({ result: { text: 'big header' } });
    const over = await post(call('echo', {}), { 'x-note': 'a'.repeat(10_000) });
    expect(over.status).toBe(431);
    const ok = await post(call('echo', { text: 'after' }));
    expect(ok.json).toMatchObject({ result: { text: 'after' } });
  });

  test('CORS only for allowed origins', async () => {
    const ok = await post(call('echo', {}), { origin: 'https://app.example' });
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const no = await post(call('echo', {}), { origin: 'https://evil.example' });
    expect(no.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('URI GET', () => {
  test('quoted strings, bare integers, 0x hex bytes; id -1', async () => {
    const r = await fetch(`${base}/echo?text="hello"&height=12&data=0xBEEF`);
    expect(await r.json()).toEqual({ jsonrpc: '2.0', id: -1, result: { text: 'hello', height: 12, data: 'beef', flag: null } });
  });

  test('unknown methods and bad params are JSON-RPC errors; / lists endpoints', async () => {
    const r = await fetch(`${base}/nope`);
    expect(r.status).toBe(404);
    expect(((await r.json()) as { error: { code: number } }).error.code).toBe(-32601);
    const bad = await fetch(`${base}/echo?height=abc`);
    expect(((await bad.json()) as { error: { code: number } }).error.code).toBe(-32602);
    const list = (await (await fetch(`${base}/`)).json()) as { result: { available_endpoints: string[] } };
    expect(list.result.available_endpoints).toContain('echo?text=_&height=_&data=_&flag=_');
    expect(list.result.available_endpoints).not.toContain('spam?n=_');
  });
});

function openWs(): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/websocket`);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

describe('websocket', () => {
  test('JSON-RPC calls over the socket, errors included', async () => {
    const ws = await openWs();
    const replies: JsonObject[] = [];
    ws.on('message', (d) => replies.push(JSON.parse(String(d)) as JsonObject));
    ws.send(call('echo', { text: 'ws' }, 9));
    ws.send('not json');
    await expect.poll(() => replies.length).toBe(2);
    expect(replies.find((r) => r.id === 9)).toMatchObject({ result: { text: 'ws' } });
    expect(replies.find((r) => r.id === null)).toMatchObject({ error: { code: -32700 } });
    ws.close();
  });

  test('a client that does not read is dropped with a reason, not buffered without bound', async () => {
    const ws = await openWs();
    const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
    // stop reading: pause the underlying socket so the server's buffer fills
    (ws as unknown as { _socket: { pause(): void } })._socket.pause();
    ws.send(call('spam', { n: 2000 }, 1));
    // resume later so the close frame can be read
    setTimeout(() => (ws as unknown as { _socket: { resume(): void } })._socket.resume(), 500);
    const { code, reason } = await closed;
    expect(code).toBe(1008);
    expect(reason).toMatch(/slow client/);
  });

  test('unknown paths refuse the upgrade', async () => {
    await expect(
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/other`);
        ws.once('open', resolve);
        ws.once('error', reject);
      }),
    ).rejects.toThrow(/404/);
  });
});

describe('malformed input never breaks the server', () => {
  test('fuzzed bodies all get an answer and the server still serves (property)', async () => {
    const valid = call('echo', { text: 'x', height: '1', data: 'AB', flag: false });
    const bodies = fc.sample(
      fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.json(),
        fc.tuple(fc.nat(valid.length), fc.string({ maxLength: 5 })).map(([i, s]) => valid.slice(0, i) + s + valid.slice(i + 1)),
        fc.record({ jsonrpc: fc.constant('2.0'), id: fc.jsonValue(), method: fc.constantFrom('echo', 'fail', 'crash', 'nope'), params: fc.jsonValue() }).map((o) => JSON.stringify(o)),
      ),
      { seed: SEED, numRuns: 400 },
    );
    for (const body of bodies) {
      const r = await post(body);
      expect([200, 204], body).toContain(r.status);
      if (r.status === 200) expect(JSON.stringify(r.json)).toMatch(/"(result|error)"/);
    }
    const ok = await post(call('echo', { text: 'still here' }));
    expect(ok.json).toMatchObject({ result: { text: 'still here' } });
  });

  test('a garbage HTTP request gets 400', async () => {
    const status = await new Promise<string>((resolve) => {
      const net = request({ host: '127.0.0.1', port, method: 'GET', path: '/', headers: { 'x-bad': 'a\u0000b' } });
      net.on('error', () => resolve('error'));
      net.on('response', (res) => resolve(String(res.statusCode)));
      net.end();
    }).catch(() => 'error');
    expect(['400', 'error']).toContain(status);
    const ok = await post(call('echo', {}));
    expect(ok.status).toBe(200);
  });
});

/** Writes `chunks` on one raw connection (each in its own write), half-closes, and returns all it read. */
function raw(chunks: string[], opts: { end?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, async () => {
      for (const c of chunks) {
        s.write(c);
        await new Promise((r) => setTimeout(r, 5));
      }
      if (opts.end !== false) s.end();
    });
    let out = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => (out += d));
    s.on('error', reject);
    s.on('close', () => resolve(out));
  });
}

const rawPost = (body: string, extra = ''): string => `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
const statuses = (out: string): string[] => [...out.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]!);
const bodies = (out: string): JsonObject[] => [...out.matchAll(/\{"jsonrpc".*?\}\}/g)].map((m) => JSON.parse(m[0]) as JsonObject);

// Plain JSON-RPC POSTs are served without node:http; every other request is handed to it with
// the bytes already read. These drive both on one connection, byte by byte and pipelined.
describe('the lean POST path and the hand-over to node:http', () => {
  test('pipelined POSTs are answered in order, then a GET on the same connection goes to node:http', async () => {
    const out = await raw([rawPost(call('echo', { text: 'a' }, 1)) + rawPost(call('echo', { text: 'b' }, 2)) + 'GET /echo?text="c" HTTP/1.1\r\nHost: x\r\n\r\n' + rawPost(call('echo', { text: 'd' }, 4))]);
    expect(statuses(out)).toEqual(['200', '200', '200', '200']);
    expect(bodies(out).map((b) => (b.result as JsonObject).text)).toEqual(['a', 'b', 'c', 'd']);
    expect(bodies(out).map((b) => b.id)).toEqual([1, 2, -1, 4]);
  });

  test('a request split into single bytes is read whole; the answer has a length and keep-alive', async () => {
    const req = rawPost(call('echo', { text: 'split' }, 7));
    const out = await raw([...req].slice(0, 60).concat(req.slice(60)));
    expect(statuses(out)).toEqual(['200']);
    expect(out).toMatch(/\r\nContent-Type: application\/json\r\n/);
    expect(out).toMatch(/\r\nKeep-Alive: timeout=\d+\r\n/);
    const len = Number(/Content-Length: (\d+)/.exec(out)![1]);
    expect(Buffer.byteLength(out.slice(out.indexOf('\r\n\r\n') + 4), 'latin1')).toBe(len);
    expect(bodies(out)[0]).toMatchObject({ id: 7, result: { text: 'split' } });
  });

  test('Connection: close is honoured: the server answers and closes', async () => {
    const out = await raw([rawPost(call('echo', { text: 'bye' }), 'Connection: close\r\n') + rawPost(call('echo', { text: 'never' }))], { end: false });
    expect(statuses(out)).toEqual(['200']);
    expect(out).toMatch(/\r\nConnection: close\r\n/);
    expect(out).not.toMatch(/never/);
  });

  test('notifications get 204; an empty body lists the methods', async () => {
    const out = await raw([rawPost('{"jsonrpc":"2.0","method":"echo"}') + rawPost('')]);
    expect(statuses(out)).toEqual(['204', '200']);
    expect(out).toMatch(/available_endpoints/);
  });

  test('what the lean path does not take gets node:http\'s answer: bad header, oversize, chunked, no Host, HTTP/1.0, upgrade', async () => {
    const body = call('echo', { text: 'x' });
    const cases: [string, string][] = [
      [`POST / HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0001b\r\nContent-Length: ${body.length}\r\n\r\n${body}`, '400'],
      [`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 20000\r\n\r\n${'x'.repeat(20_000)}`, '413'],
      [`POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`, '200'],
      [`POST / HTTP/1.1\r\nContent-Length: ${body.length}\r\n\r\n${body}`, '400'],
      [`POST / HTTP/1.0\r\nContent-Length: ${body.length}\r\n\r\n${body}`, '200'],
      [`POST /other HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`, '404'],
      [`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd`, '400'],
      [`POST / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: ${body.length}\r\n\r\n${body}`, '404'], // an upgrade, refused off /websocket
    ];
    for (const [req, status] of cases) expect(statuses(await raw([req])), req.slice(0, 80)).toEqual([status]);
    const ok = await post(call('echo', { text: 'after' }));
    expect(ok.json).toMatchObject({ result: { text: 'after' } });
  });

  test('a head with bare LF line endings gets node:http\'s 400 at once, on a connection left open', async () => {
    const out = await raw([`POST / HTTP/1.1\r\nHost: x\nContent-Length: 2\n\n[]`], { end: false });
    expect(statuses(out)).toEqual(['400']);
  });

  test('a client that pipelines 8,000 requests before it reads gets every answer, in order', async () => {
    // The first request takes 100 ms while ~9 MB of requests arrive behind it, and the ~9 MB of
    // answers are more than the socket buffers hold: the server stops reading while it is busy,
    // and waits for the client to drain the answers before it reads the next request — never
    // two requests at once, or a fast answer would overtake a slow one.
    const text = 'p'.repeat(1_000);
    const n = 8_000;
    // every 50th waits 2 ms, so answers are also due while earlier ones wait to be drained
    const reqs = rawPost(call('slow', {}, 0)) + Array.from({ length: n }, (_, i) => rawPost(i % 50 === 0 ? call('wait', { ms: 2 }, i + 1) : call('echo', { text }, i + 1))).join('');
    const s = connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve) => s.once('connect', resolve));
    s.pause();
    s.write(reqs);
    await new Promise((r) => setTimeout(r, 500));
    let out = '';
    let ids: number[] = [];
    s.setEncoding('latin1');
    s.on('data', (d: string) => (out += d));
    s.resume();
    await expect.poll(() => (ids = [...out.matchAll(/"id":(\d+)/g)].map((m) => Number(m[1]))).length, { timeout: 20_000 }).toBe(n + 1);
    expect(ids).toEqual(Array.from({ length: n + 1 }, (_, i) => i));
    s.destroy();
  }, 30_000);

  test('a client that half-closes while its request is answered still gets the answer', async () => {
    const out = await raw([rawPost(call('slow', {}))]);
    expect(bodies(out)[0]).toMatchObject({ result: { text: 'slow' } });
  });
});

describe('max_open_connections', () => {
  test('a connection beyond the limit is closed unanswered; once one closes, a new one is served', async () => {
    const small = new RpcServer({ ...DEFAULT_RPC_SERVER_OPTIONS, port: 0, maxOpenConnections: 2 }, { methods, logger: silent });
    await small.start();
    const p = small.address().port;
    const open = (): Promise<ReturnType<typeof connect>> =>
      new Promise((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port: p }, () => resolve(s));
        s.on('error', reject);
      });
    /** The answer to one echo on `s`, or '' when the server closes the connection instead. */
    const ask = (s: ReturnType<typeof connect>): Promise<string> =>
      new Promise((resolve) => {
        let out = '';
        s.setEncoding('latin1');
        s.on('data', (d: string) => {
          out += d;
          if (/\}\}$/.test(out)) resolve(out);
        });
        s.on('close', () => resolve(out));
        s.on('error', () => {});
        s.write(rawPost(call('echo', { text: 'held' })));
      });
    try {
      const [a, b] = [await open(), await open()];
      expect(statuses(await ask(a))).toEqual(['200']);
      expect(statuses(await ask(b))).toEqual(['200']);
      const c = await open();
      expect(await ask(c)).toBe('');
      a.destroy();
      await expect.poll(async () => statuses(await ask(await open())).join(), { timeout: 3_000 }).toBe('200');
      b.destroy();
    } finally {
      await small.stop();
    }
  });
});
