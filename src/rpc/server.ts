// The RPC transport: JSON-RPC 2.0 over HTTP POST (single or batch), CometBFT's URI GET form
// (`/block?height=5`), and JSON-RPC over a websocket at /websocket. Every limit has an option;
// no input — malformed, oversized, wrong-typed — gets anything but an error response, and a
// handler's exception never reaches the client as a stack trace.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import type { Json, JsonObject } from '../codec/index.js';
import {
  INTERNAL_ERROR,
  INVALID_REQUEST,
  METHOD_NOT_FOUND,
  PARSE_ERROR,
  Params,
  RpcError,
  errorResponse,
  successResponse,
  type RpcId,
} from './jsonrpc.js';
import { serveLean } from './lean-http.js';

/** A websocket connection as methods see it (subscriptions push events through `send`). */
export interface WsSession {
  readonly id: number;
  readonly remote: string;
  /** Queues a message; a client that cannot keep up is disconnected instead of buffering without bound. */
  send(message: JsonObject): void;
  /** Closes the connection with a websocket close code and a reason the client sees. */
  close(code: number, reason: string): void;
  onClose(listener: () => void): void;
}

export interface CallContext {
  /** Present only for calls over the websocket. */
  readonly ws?: WsSession;
  /** The JSON-RPC id of the call (events for a subscription are sent with it). */
  readonly id: RpcId;
}

export interface RpcMethod {
  /** Parameter names, in positional order. */
  readonly params: readonly string[];
  readonly handler: (params: Params, ctx: CallContext) => Promise<Json> | Json;
  /** Only callable over the websocket (subscribe/unsubscribe). */
  readonly wsOnly?: boolean;
}

export interface RpcServerOptions {
  readonly host: string;
  readonly port: number;
  /** Request body limit (CometBFT max_body_bytes, default 1,000,000). */
  readonly maxBodyBytes: number;
  /** Request line and headers, in bytes (max_header_bytes, default 1 MiB); beyond, node:http answers 431. */
  readonly maxHeaderBytes: number;
  /** Simultaneous HTTP connections (max_open_connections, default 900; 0 = unlimited). */
  readonly maxOpenConnections: number;
  /** Requests in one batch (max_request_batch_size, default 10; 0: no limit). */
  readonly maxBatchRequests: number;
  /** Simultaneous websocket clients (default 100). */
  readonly maxWebsocketClients: number;
  /** A websocket client whose unsent data exceeds this is dropped as too slow (default 4 MiB). */
  readonly wsSendBufferBytes: number;
  /** Origins allowed for CORS; empty disables CORS, "*" allows any. */
  readonly corsAllowedOrigins: readonly string[];
  /** Websocket ping interval; a client that misses a pong is dropped (default 30 s). */
  readonly wsPingIntervalMs: number;
  /**
   * Plain JSON-RPC POSTs served without node:http (lean-http.ts; default true). Off, node:http
   * serves every request: the two must answer alike, which a test checks request by request.
   */
  readonly leanPost?: boolean;
}

export const DEFAULT_RPC_SERVER_OPTIONS: RpcServerOptions = Object.freeze({
  host: '127.0.0.1',
  port: 26657,
  maxBodyBytes: 1_000_000,
  maxHeaderBytes: 1 << 20,
  maxOpenConnections: 900,
  maxBatchRequests: 10,
  maxWebsocketClients: 100,
  wsSendBufferBytes: 4 << 20,
  corsAllowedOrigins: [],
  wsPingIntervalMs: 30_000,
});

/** Minimal structured logger (pino's shape). */
export interface RpcLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

const URI_ID = -1;
const CLOSE_GRACE_MS = 5000; // CometBFT answers URI GET calls with id -1

function isRpcId(v: Json | undefined): v is string | number {
  return typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
}

export class RpcServer {
  private http: Server | undefined;
  /** Accepts the connections: plain JSON-RPC POSTs are served lean, the rest go to `http`. */
  private listener: NetServer | undefined;
  private wss: WebSocketServer | undefined;
  private readonly sockets = new Set<Socket>();
  private nextWsId = 1;
  private pingTimer: NodeJS.Timeout | undefined;
  /** Whether each client answered the last ping. */
  private readonly alive = new WeakMap<WebSocket, boolean>();

  constructor(
    private readonly opts: RpcServerOptions,
    private readonly modules: { methods: ReadonlyMap<string, RpcMethod>; logger: RpcLogger },
  ) {}

  /** The bound address (useful with port 0). */
  address(): { host: string; port: number } {
    const a = this.listener?.address();
    if (!a || typeof a === 'string') throw new Error('RPC server is not listening');
    return { host: a.address, port: a.port };
  }

  async start(): Promise<void> {
    const http = createServer({ maxHeaderSize: this.opts.maxHeaderBytes }, (req, res) => void this.onHttp(req, res));
    // A malformed HTTP request is answered by node with 400 and closed; never an exception.
    http.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      // headers beyond max_header_bytes: 431, as Go's server (CometBFT's) answers; a request
      // not whole within node's headers/request timeouts: 408, as node answers by itself
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
      if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
      else socket.destroy();
    });
    const lean = {
      maxHeaderBytes: this.opts.maxHeaderBytes,
      maxBodyBytes: this.opts.maxBodyBytes,
      cors: this.opts.corsAllowedOrigins.length > 0,
      keepAliveMs: http.keepAliveTimeout,
      headersMs: http.headersTimeout,
      requestMs: http.requestTimeout,
    };
    const reply = (body: Buffer): Promise<string | undefined> =>
      this.postReply(body)
        .then((r) => (r === undefined ? undefined : JSON.stringify(r)))
        .catch((e: unknown) => {
          this.transportFailed(e);
          throw e;
        });
    // allowHalfOpen as node:http's own server: a client's FIN must not cut off its answer
    const listener = createNetServer({ allowHalfOpen: true }, (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      if (this.opts.leanPost === false) http.emit('connection', s);
      else serveLean(s, http, reply, lean);
    });
    if (this.opts.maxOpenConnections > 0) listener.maxConnections = this.opts.maxOpenConnections;
    const wss = new WebSocketServer({ noServer: true, maxPayload: this.opts.maxBodyBytes });
    http.on('upgrade', (req, socket: Socket, head) => {
      const path = (req.url ?? '').split('?')[0];
      if (path !== '/websocket') {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
        return;
      }
      if (wss.clients.size >= this.opts.maxWebsocketClients) {
        socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\nwebsocket client limit reached\r\n');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => this.onWebsocket(ws, req));
    });
    this.http = http;
    this.listener = listener;
    this.wss = wss;
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(this.opts.port, this.opts.host, () => {
        listener.off('error', reject);
        // node:http starts its headers/request timeout checks on 'listening'; it never listens
        // itself here (connections are handed to it), so it is told when the listener is
        http.emit('listening');
        resolve();
      });
    });
    this.pingTimer = setInterval(() => this.pingAll(), this.opts.wsPingIntervalMs);
    this.pingTimer.unref();
    this.modules.logger.info({ laddr: `tcp://${this.opts.host}:${this.address().port}` }, 'RPC server listening');
  }

  async stop(): Promise<void> {
    if (this.pingTimer) clearInterval(this.pingTimer);
    for (const ws of this.wss?.clients ?? []) ws.terminate();
    this.wss?.close();
    const listener = this.listener;
    const http = this.http;
    this.listener = undefined;
    this.http = undefined;
    if (!listener) return;
    http?.close(() => {}); // stops its timeout checks; it has no socket of its own to close
    const closed = new Promise<void>((resolve) => listener.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  // ---- HTTP ------------------------------------------------------------------------------

  private cors(req: IncomingMessage, res: ServerResponse): void {
    const allowed = this.opts.corsAllowedOrigins;
    if (allowed.length === 0) return;
    const origin = req.headers.origin;
    if (!origin) return;
    if (allowed.includes('*') || allowed.includes(origin)) {
      res.setHeader('Access-Control-Allow-Origin', allowed.includes('*') ? '*' : origin);
      res.setHeader('Access-Control-Allow-Methods', 'HEAD, GET, POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Origin, Accept, Content-Type, X-Requested-With, X-Server-Time');
    }
  }

  private async onHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      this.cors(req, res);
      if (req.method === 'OPTIONS') return this.write(res, 204, '');
      if (req.method === 'POST' && req.url === '/') return await this.onPost(req, res); // every JSON-RPC call: no URL to parse
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (req.method === 'POST') {
        if (url.pathname !== '/') return this.writeJson(res, 404, errorResponse(null, new RpcError(INVALID_REQUEST, `path ${url.pathname} is invalid`)));
        return await this.onPost(req, res);
      }
      if (req.method === 'GET' || req.method === 'HEAD') {
        if (url.pathname === '/') return this.writeJson(res, 200, this.listMethods());
        const name = url.pathname.slice(1);
        const method = this.modules.methods.get(name);
        if (!method || method.wsOnly) return this.writeJson(res, 404, errorResponse(URI_ID, new RpcError(METHOD_NOT_FOUND, `unknown method ${JSON.stringify(name.slice(0, 64))}`)));
        return this.writeJson(res, 200, await this.call(method, () => Params.fromUri(url.searchParams), { id: URI_ID }));
      }
      res.setHeader('Allow', 'GET, HEAD, POST, OPTIONS');
      return this.write(res, 405, 'method not allowed\n');
    } catch (e) {
      this.transportFailed(e);
      if (!res.headersSent) this.write(res, 500, 'internal error\n');
      else res.destroy();
    }
  }

  /** Only a transport failure gets here (handlers' errors become JSON-RPC errors). */
  private transportFailed(e: unknown): void {
    this.modules.logger.warn({ err: e instanceof Error ? e.message : String(e) }, 'RPC request failed');
  }

  private async onPost(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await this.readBody(req, res);
    if (body === undefined) return;
    return this.writeJson(res, 200, await this.postReply(body));
  }

  /** The answer to a POST's body: the methods for an empty one, else the JSON-RPC reply. */
  private postReply(body: Buffer): Promise<Json | undefined> {
    if (body.length === 0) return Promise.resolve(this.listMethods());
    return this.onJsonRpcText(body.toString('utf8'), undefined);
  }

  /** Reads the body up to the limit; answers 413 and returns undefined beyond it. */
  private readBody(req: IncomingMessage, res: ServerResponse): Promise<Buffer | undefined> {
    const limit = this.opts.maxBodyBytes;
    const declared = Number(req.headers['content-length'] ?? 0);
    const tooLarge = (close: boolean): void => {
      if (close) res.setHeader('Connection', 'close');
      this.writeJson(res, 413, errorResponse(null, new RpcError(INVALID_REQUEST, `request body exceeds ${limit} bytes`)));
    };
    if (declared > limit) {
      // A body a few times the limit is read and discarded, so the client (still writing) gets
      // the 413 instead of a reset connection; anything larger closes the connection.
      tooLarge(declared > 4 * limit);
      req.resume();
      return Promise.resolve(undefined);
    }
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let done = false;
      req.on('data', (c: Buffer) => {
        if (done) return;
        size += c.length;
        if (size > limit) {
          done = true;
          tooLarge(true);
          req.destroy();
          resolve(undefined);
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => {
        // a small body comes in one chunk: no copy
        if (!done) resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
      });
      req.on('error', () => {
        if (!done) resolve(undefined);
        done = true;
      });
    });
  }

  private write(res: ServerResponse, status: number, body: string): void {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(body);
  }

  private writeJson(res: ServerResponse, status: number, body: Json | undefined): void {
    if (body === undefined) {
      // only notifications: JSON-RPC says no reply
      res.writeHead(204);
      res.end();
      return;
    }
    // With Content-Length (as CometBFT's Go server sends for small bodies) node writes the head and
    // the body in one write; without it every response went out chunked, in several pieces.
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  private listMethods(): JsonObject {
    const methods = [...this.modules.methods.entries()]
      .filter(([, m]) => !m.wsOnly)
      .map(([name, m]) => `${name}${m.params.length ? '?' + m.params.map((p) => `${p}=_`).join('&') : ''}`)
      .sort();
    return { jsonrpc: '2.0', id: URI_ID, result: { available_endpoints: methods } };
  }

  // ---- JSON-RPC --------------------------------------------------------------------------

  /** Parses and runs a single request or a batch; undefined when nothing is to be answered. */
  private async onJsonRpcText(text: string, ws: WsSession | undefined): Promise<Json | undefined> {
    let parsed: Json;
    try {
      parsed = JSON.parse(text) as Json;
    } catch (e) {
      return errorResponse(null, new RpcError(PARSE_ERROR, `error unmarshaling request: ${(e as Error).message}`));
    }
    if (Array.isArray(parsed)) {
      if (parsed.length === 0) return errorResponse(null, new RpcError(INVALID_REQUEST, 'empty batch'));
      if (this.opts.maxBatchRequests > 0 && parsed.length > this.opts.maxBatchRequests)
        return errorResponse(null, new RpcError(INVALID_REQUEST, `batch of ${parsed.length} requests exceeds the limit of ${this.opts.maxBatchRequests}`));
      const out: Json[] = [];
      for (const r of parsed) {
        const one = await this.onRequest(r, ws);
        if (one !== undefined) out.push(one);
      }
      return out.length ? out : undefined;
    }
    return this.onRequest(parsed, ws);
  }

  private async onRequest(req: Json, ws: WsSession | undefined): Promise<JsonObject | undefined> {
    if (req === null || typeof req !== 'object' || Array.isArray(req)) return errorResponse(null, new RpcError(INVALID_REQUEST, 'a request must be an object'));
    if (!('id' in req)) return undefined; // a notification: no reply, as CometBFT
    const id = req.id;
    if (!isRpcId(id)) return errorResponse(null, new RpcError(INVALID_REQUEST, 'id must be a string or a number'));
    if (req.jsonrpc !== undefined && req.jsonrpc !== '2.0') return errorResponse(id, new RpcError(INVALID_REQUEST, 'jsonrpc must be "2.0"'));
    if (typeof req.method !== 'string') return errorResponse(id, new RpcError(INVALID_REQUEST, 'method must be a string'));
    const method = this.modules.methods.get(req.method);
    if (!method || (method.wsOnly && !ws)) return errorResponse(id, new RpcError(METHOD_NOT_FOUND, `unknown method ${JSON.stringify(req.method.slice(0, 64))}`));
    return this.call(method, () => Params.fromJson(req.params, method.params), ws ? { id, ws } : { id });
  }

  private async call(method: RpcMethod, params: () => Params, ctx: CallContext): Promise<JsonObject> {
    try {
      const result = await method.handler(params(), ctx);
      return successResponse(ctx.id, result);
    } catch (e) {
      if (e instanceof RpcError) return errorResponse(ctx.id, e);
      this.modules.logger.warn({ err: (e as Error).message }, 'RPC method failed');
      return errorResponse(ctx.id, new RpcError(INTERNAL_ERROR, (e as Error).message ?? String(e)));
    }
  }

  // ---- websocket -------------------------------------------------------------------------

  private onWebsocket(ws: WebSocket, req: IncomingMessage): void {
    const closeListeners: (() => void)[] = [];
    this.alive.set(ws, true);
    const close = (code: number, reason: string): void => {
      if (ws.readyState !== ws.OPEN) return;
      ws.close(code, reason.slice(0, 120)); // a close frame's reason is at most 123 bytes
      // the close frame queues behind what is unsent: a client that resumes reading gets the
      // reason; one that does not is cut off after a bounded grace period
      setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
    };
    const session: WsSession = {
      id: this.nextWsId++,
      remote: `${req.socket.remoteAddress}:${req.socket.remotePort}`,
      send: (message) => {
        if (ws.readyState !== ws.OPEN) return;
        if (ws.bufferedAmount > this.opts.wsSendBufferBytes) {
          this.modules.logger.warn({ client: session.remote, buffered: ws.bufferedAmount }, 'dropping slow websocket client');
          close(1008, `slow client: more than ${this.opts.wsSendBufferBytes} bytes unsent`);
          return;
        }
        ws.send(JSON.stringify(message));
      },
      close,
      onClose: (l) => closeListeners.push(l),
    };
    ws.on('pong', () => this.alive.set(ws, true));
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) {
        session.send(errorResponse(null, new RpcError(INVALID_REQUEST, 'binary messages are not accepted')));
        return;
      }
      const text = Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8');
      void this.onJsonRpcText(text, session).then((reply) => {
        if (reply !== undefined) session.send(reply as JsonObject);
      });
    });
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      for (const l of closeListeners) {
        try {
          l();
        } catch {
          // a listener's failure must not stop the others from cleaning up
        }
      }
    });
  }

  private pingAll(): void {
    for (const ws of this.wss?.clients ?? []) {
      if (this.alive.get(ws) === false) {
        ws.terminate();
        continue;
      }
      this.alive.set(ws, false);
      ws.ping();
    }
  }
}
