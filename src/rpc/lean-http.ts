// The lean path for the request that carries nearly all of the RPC's load: a JSON-RPC POST to
// "/" with a Content-Length body on a keep-alive HTTP/1.1 connection. node:http spent 35–43 µs
// of CPU per such request (parser objects, streams, header maps); this reads the head with a few
// string scans and writes head and body in one write. Anything else — another method or path,
// chunked bodies, Expect, Upgrade, HTTP/1.0, CORS requests, heads or bodies over the limits, a
// head it does not fully understand — is handed, with the bytes already read, to the node:http
// server, which then owns the connection and answers as before (400, 413, 431, GET, websocket).
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

export interface LeanHttpOptions {
  /** Request line and headers, in bytes: a longer head goes to node:http (which answers 431). */
  readonly maxHeaderBytes: number;
  /** A larger body goes to node:http (which answers 413). */
  readonly maxBodyBytes: number;
  /** Requests with an Origin header go to node:http, which adds the CORS headers. */
  readonly cors: boolean;
  /** Idle time allowed between requests on a kept-alive connection (node:http's keepAliveTimeout). */
  readonly keepAliveMs: number;
  /** Time from a request's first byte for its head to arrive (node:http's headersTimeout). */
  readonly headersMs: number;
  /** Time from a request's first byte for all of it to arrive (node:http's requestTimeout). */
  readonly requestMs: number;
}

/** The answer to one POST: a JSON text (200) or nothing (204, only notifications). */
export type LeanReply = (body: Buffer) => Promise<string | undefined>;

const HEAD_END = Buffer.from('\r\n\r\n');
const REQUEST_LINE = 'POST / HTTP/1.1\r\n';
const REQUEST_LINE_BYTES = Buffer.from(REQUEST_LINE, 'latin1');
const OWS = /^[ \t]+|[ \t]+$/g;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;
/** Pipelined bytes buffered while a request is answered before reading pauses. */
const PIPELINE_BUFFER = 1 << 20;
/** A head longer than this goes to node:http (it reads long heads without copying them again per chunk). */
const LEAN_HEAD_BYTES = 8 * 1024;
const EMPTY = Buffer.alloc(0);
const TIMEOUT_ANSWER = 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n';

let dateSecond = -1;
let dateText = '';
/** The Date header's value, formatted once a second (as node:http does). */
function httpDate(): string {
  const now = Date.now();
  const s = Math.floor(now / 1000);
  if (s !== dateSecond) {
    dateSecond = s;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

/** What the head says, or undefined when node:http must take the request. */
interface Head {
  readonly bodyStart: number;
  readonly length: number;
  readonly close: boolean;
}

/** Reads a head that ends at `end` (the index of CRLFCRLF); undefined for anything but the plain case. */
function readHead(buf: Buffer, end: number, opts: LeanHttpOptions): Head | undefined {
  const head = buf.toString('latin1', REQUEST_LINE.length, end + 2);
  let length = -1;
  let close = false;
  let host = false;
  let at = 0;
  while (at < head.length) {
    const eol = head.indexOf('\r\n', at);
    const colon = head.indexOf(':', at);
    if (colon < 0 || colon > eol) return undefined;
    const name = head.slice(at, colon).toLowerCase();
    const raw = head.slice(colon + 1, eol);
    at = eol + 2;
    // not a token (folded, nameless, spaced), or a control character (a lone CR, VT, FF…): node:http answers 400
    if (!TOKEN.test(name) || CONTROL.test(raw)) return undefined;
    // optional whitespace is spaces and tabs only (String.trim would also take VT, FF, NBSP…)
    const value = raw.replace(OWS, '');
    if (name === 'content-length') {
      // digits with spaces around only: node:http refuses a tab there
      if (length !== -1 || !/^ *\d{1,15} *$/.test(raw)) return undefined;
      length = Number(value);
    } else if (name === 'host') {
      host = true;
    } else if (name === 'connection') {
      // a list of tokens; an upgrade needs an Upgrade header too, which is handed over below
      if (value.toLowerCase().split(',').some((t) => t.replace(OWS, '') === 'close')) close = true;
    } else if (name === 'transfer-encoding' || name === 'expect' || name === 'upgrade' || (name === 'origin' && opts.cors)) {
      return undefined;
    }
  }
  // node:http answers a HTTP/1.1 request without Host with 400
  if (!host || length < 0 || length > opts.maxBodyBytes) return undefined;
  return { bodyStart: end + 4, length, close };
}

/**
 * Serves one connection: plain JSON-RPC POSTs here, one at a time in arrival order; the first
 * request of another kind hands the connection (and every byte not yet answered) to `http`.
 */
export function serveLean(socket: Socket, http: Server, reply: LeanReply, opts: LeanHttpOptions): void {
  /** Bytes read and not yet answered: a head, or requests pipelined behind the one in flight. */
  let buf: Buffer = EMPTY;
  /** The head of the request whose body is still arriving; its chunks wait in `parts`, joined once. */
  let pending: Head | undefined;
  let parts: Buffer[] = [];
  let partsLength = 0;
  /** Runs from a request's first byte until it is whole (headersMs, then requestMs). */
  let requestTimer: NodeJS.Timeout | undefined;
  let requestStart = 0;
  let busy = false;
  /** Answers are waiting in the socket's buffer for the client to read them: read no more requests. */
  let draining = false;
  let ended = false;
  let gone = false;
  const headBytes = Math.min(opts.maxHeaderBytes, LEAN_HEAD_BYTES);

  const onData = (d: Buffer): void => {
    if (pending !== undefined) {
      parts.push(d);
      partsLength += d.length;
    } else buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
    if (busy || draining) {
      if (buf.length > PIPELINE_BUFFER) socket.pause();
      return;
    }
    next();
  };
  const onEnd = (): void => {
    ended = true;
    if (!busy && !draining) next(); // ends the connection, or hands a partial request to node:http to answer
  };
  const onTimeout = (): void => {
    socket.destroy();
  };
  const onClose = (): void => {
    gone = true;
    clearRequestTimer();
  };
  socket.setNoDelay(true);
  socket.setTimeout(opts.keepAliveMs);
  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.on('timeout', onTimeout);
  socket.on('close', onClose);
  socket.on('error', onTimeout);

  function clearRequestTimer(): void {
    if (requestTimer !== undefined) clearTimeout(requestTimer);
    requestTimer = undefined;
  }

  /** Waits for more of a started request, within node:http's limits from its first byte. */
  function awaitRest(): void {
    socket.setTimeout(0);
    const limit = pending === undefined ? opts.headersMs : opts.requestMs;
    if (limit <= 0) return clearRequestTimer(); // 0 turns node:http's limit off; so here
    if (requestTimer === undefined) requestStart = Date.now();
    else clearTimeout(requestTimer);
    requestTimer = setTimeout(() => {
      requestTimer = undefined;
      finish(TIMEOUT_ANSWER);
    }, Math.max(0, requestStart + limit - Date.now()));
  }

  /** Writes `out` (if any), reads nothing more, and closes once it is sent. */
  function finish(out: string): void {
    gone = true;
    clearRequestTimer();
    socket.off('data', onData);
    buf = EMPTY;
    parts = [];
    partsLength = 0;
    pending = undefined;
    socket.end(out, () => socket.destroy());
  }

  function handOff(): void {
    clearRequestTimer();
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.off('timeout', onTimeout);
    socket.off('close', onClose);
    socket.off('error', onTimeout);
    socket.setTimeout(0);
    const rest = partsLength > 0 ? Buffer.concat([buf, ...parts]) : buf;
    buf = EMPTY;
    parts = [];
    partsLength = 0;
    pending = undefined;
    if (ended) {
      // the client has half-closed: an ended stream takes no unshift, so node:http is given the
      // bytes and the end as the events it listens to
      http.emit('connection', socket);
      if (rest.length > 0) socket.emit('data', rest);
      socket.emit('end');
      return;
    }
    socket.pause();
    if (rest.length > 0) socket.unshift(rest);
    http.emit('connection', socket);
    socket.resume();
  }

  function next(): void {
    if (gone || busy || draining) return;
    let head = pending;
    if (head === undefined) {
      if (buf.length === 0) {
        clearRequestTimer();
        if (ended) socket.end();
        else socket.setTimeout(opts.keepAliveMs);
        return;
      }
      // the request line decides at once: only "POST / HTTP/1.1" stays here
      const n = Math.min(buf.length, REQUEST_LINE_BYTES.length);
      if (buf.compare(REQUEST_LINE_BYTES, 0, n, 0, n) !== 0) return handOff();
      const end = buf.indexOf(HEAD_END);
      if (end < 0) {
        if (buf.length > headBytes || buf.includes('\n\n') || ended) return handOff();
        return awaitRest();
      }
      if (end > headBytes) return handOff();
      head = readHead(buf, end, opts);
      if (!head) return handOff();
    }
    const total = head.bodyStart + head.length;
    if (buf.length + partsLength < total) {
      if (ended) return handOff(); // a truncated request: node:http answers it
      pending = head;
      return awaitRest();
    }
    if (partsLength > 0) {
      buf = Buffer.concat([buf, ...parts]);
      parts = [];
      partsLength = 0;
    }
    pending = undefined;
    clearRequestTimer();
    const body = buf.subarray(head.bodyStart, total);
    buf = buf.length === total ? EMPTY : buf.subarray(total);
    busy = true;
    socket.setTimeout(0); // a broadcast_tx_commit may wait for its block: no idle timeout meanwhile
    const close = head.close;
    void reply(body).then(
      (text) => respond(text, close),
      () => respond(null, close),
    );
  }

  function respond(text: string | undefined | null, close: boolean): void {
    busy = false;
    if (gone) return;
    const conn = close ? 'Connection: close\r\n' : `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.round(opts.keepAliveMs / 1000)}\r\n`;
    let out: string;
    if (text === null) out = `HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 15\r\nDate: ${httpDate()}\r\n${conn}\r\ninternal error\n`;
    else if (text === undefined) out = `HTTP/1.1 204 No Content\r\nDate: ${httpDate()}\r\n${conn}\r\n`;
    else out = `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nDate: ${httpDate()}\r\n${conn}\r\n${text}`;
    // after Connection: close nothing more is read (RFC 9112), and the socket closes once sent
    if (close) return finish(out);
    // a client that does not read its answers gets no more of them until it does
    if (!socket.write(out)) {
      draining = true;
      socket.once('drain', () => {
        draining = false;
        goOn();
      });
      return;
    }
    goOn();
  }

  function goOn(): void {
    if (socket.isPaused()) socket.resume();
    next();
  }
}
