// A minimal JSON-RPC client over HTTP POST, for the CLI's tx/query/status commands: one call
// per request, a timeout, and errors that say which node and what it answered.
import type { Json, JsonObject } from '../codec/index.js';

export class RpcClientError extends Error {
  override readonly name = 'RpcClientError';
  constructor(
    message: string,
    /** The JSON-RPC error code, when the node answered with one. */
    readonly code?: number,
  ) {
    super(message);
  }
}

/** "tcp://host:port", "host:port" or an http(s) URL → an http(s) URL. */
export function nodeUrl(node: string): string {
  const s = node.trim();
  if (/^https?:\/\//i.test(s)) return s.replace(/\/+$/, '');
  if (/^tcp:\/\//i.test(s)) return `http://${s.slice(6)}`;
  return `http://${s}`;
}

export class RpcClient {
  private nextId = 1;

  constructor(
    readonly url: string,
    private readonly timeoutMs = 30_000,
  ) {}

  async call(method: string, params: JsonObject = {}): Promise<JsonObject> {
    const id = this.nextId++;
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id, method, params }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new RpcClientError(`cannot reach the node at ${this.url}: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
    }
    const text = await response.text();
    let body: Json;
    try {
      body = JSON.parse(text) as Json;
    } catch {
      throw new RpcClientError(`the node at ${this.url} answered HTTP ${response.status} with something that is not JSON: ${text.slice(0, 120)}`);
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new RpcClientError(`unexpected reply from ${this.url}`);
    const err = body.error;
    if (err && typeof err === 'object' && !Array.isArray(err)) {
      const detail = typeof err.data === 'string' && err.data ? `: ${err.data}` : '';
      throw new RpcClientError(`${method}: ${String(err.message)}${detail}`, typeof err.code === 'number' ? err.code : undefined);
    }
    const result = body.result;
    if (result === null || typeof result !== 'object' || Array.isArray(result)) throw new RpcClientError(`${method}: the reply has no result object`);
    return result;
  }
}
