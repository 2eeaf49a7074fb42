// Small helpers for the metrics tests: a plain HTTP client that keeps no socket open, a parser
// for the text exposition, and a logger that remembers warnings.
import { request } from 'node:http';
import { createServer } from 'node:net';

export interface HttpResult {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

/** One request on its own connection (agent: false), closed afterwards. */
export function httpGet(port: number, path: string, method = 'GET', host = '127.0.0.1'): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * The samples of a text exposition, keyed by name and label set as printed, e.g.
 * `tally_p2p_peer_bans_total{reason="flood"}`. Label order is normalised (sorted) so tests do
 * not depend on the library's printing order.
 */
export function parseExposition(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    const key = line.slice(0, sp);
    const value = Number(line.slice(sp + 1));
    out.set(normaliseKey(key), value);
  }
  return out;
}

function normaliseKey(key: string): string {
  const brace = key.indexOf('{');
  if (brace < 0) return key;
  const labels = key.slice(brace + 1, -1).match(/[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"/g) ?? [];
  return `${key.slice(0, brace)}{${[...labels].sort().join(',')}}`;
}

/** Builds a sample key with labels sorted, matching parseExposition's keys. */
export function key(name: string, labels: Readonly<Record<string, string>> = {}): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  return parts.length === 0 ? name : `${name}{${parts.sort().join(',')}}`;
}

/** A port nothing listens on right now (bound, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = a !== null && typeof a === 'object' ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface RecordingLogger {
  readonly warnings: { obj: object; msg: string }[];
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export function recordingLogger(): RecordingLogger {
  const warnings: { obj: object; msg: string }[] = [];
  return { warnings, info: () => {}, warn: (obj, msg) => warnings.push({ obj, msg }) };
}

/** Open TCP handles of this process (servers and sockets), to check nothing is left behind. */
export function tcpHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap' || r === 'TCPSocketWrap').length;
}

/** tcpHandles() once sockets of earlier tests have finished closing (unchanged for 100 ms). */
export async function settledTcpHandles(): Promise<number> {
  let last = tcpHandles();
  for (let i = 0; i < 50; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const now = tcpHandles();
    if (now === last) return now;
    last = now;
  }
  return last;
}

/** Polls `cond` until it holds or `ms` pass. */
export async function eventually(cond: () => boolean, ms = 2_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}
