// JSON-RPC 2.0 as CometBFT serves it: requests, responses, error codes, and one typed reader of
// method parameters whatever their source (a JSON object, a positional array, or a URI query
// string with CometBFT's conventions: integers bare, strings quoted, bytes as 0x-hex).
import { DecodeError, fromBase64, fromHex, type Json, type JsonObject } from '../codec/index.js';

export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;
export const METHOD_NOT_FOUND = -32601;
export const INVALID_PARAMS = -32602;
export const INTERNAL_ERROR = -32603;
/** CometBFT uses -32000 for server errors it attributes to the request (e.g. a height not yet reached). */
export const SERVER_ERROR = -32000;

const MESSAGES: Record<number, string> = {
  [PARSE_ERROR]: 'Parse error. Invalid JSON',
  [INVALID_REQUEST]: 'Invalid Request',
  [METHOD_NOT_FOUND]: 'Method not found',
  [INVALID_PARAMS]: 'Invalid params',
  [INTERNAL_ERROR]: 'Internal error',
  [SERVER_ERROR]: 'Server error',
};

/** An error a method returns to its caller: code, CometBFT's message for the code, and a human `data`. */
export class RpcError extends Error {
  override readonly name = 'RpcError';
  constructor(
    readonly code: number,
    readonly data: string,
  ) {
    super(`${MESSAGES[code] ?? 'Error'}: ${data}`);
  }

  toJson(): JsonObject {
    return { code: this.code, message: MESSAGES[this.code] ?? 'Error', data: this.data };
  }
}

export const invalidParams = (data: string): RpcError => new RpcError(INVALID_PARAMS, data);

export type RpcId = string | number | null;

export function successResponse(id: RpcId, result: Json): JsonObject {
  return { jsonrpc: '2.0', id, result };
}

export function errorResponse(id: RpcId, error: RpcError): JsonObject {
  return { jsonrpc: '2.0', id, error: error.toJson() };
}

/** Where parameters came from decides how a bare value is read (URI strings are quoted, JSON ones are not). */
type ParamSource = { kind: 'json'; params: JsonObject } | { kind: 'uri'; params: URLSearchParams };

/**
 * Typed access to a method's parameters. Every accessor names the parameter in its error, so a
 * client learns exactly which argument was wrong.
 */
export class Params {
  private constructor(private readonly source: ParamSource) {}

  /** From JSON-RPC `params`: an object, an array (mapped onto `names` by position), or absent. */
  static fromJson(params: Json | undefined, names: readonly string[]): Params {
    if (params === undefined || params === null) return new Params({ kind: 'json', params: {} });
    if (Array.isArray(params)) {
      if (params.length > names.length) throw invalidParams(`expected at most ${names.length} parameters (${names.join(', ')}), got ${params.length}`);
      const obj: JsonObject = {};
      params.forEach((p, i) => {
        obj[names[i]!] = p;
      });
      return new Params({ kind: 'json', params: obj });
    }
    if (typeof params === 'object') return new Params({ kind: 'json', params });
    throw invalidParams('params must be an object or an array');
  }

  static fromUri(query: URLSearchParams): Params {
    return new Params({ kind: 'uri', params: query });
  }

  private raw(name: string): Json | undefined {
    if (this.source.kind === 'json') {
      const v = this.source.params[name];
      return v === null ? undefined : v;
    }
    const v = this.source.params.get(name);
    return v === null || v === '' ? undefined : v;
  }

  has(name: string): boolean {
    return this.raw(name) !== undefined;
  }

  /** A string; URI form must be quoted ("abc"), as CometBFT requires. */
  string(name: string): string | undefined {
    const v = this.raw(name);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw invalidParams(`${name}: expected a string`);
    if (this.source.kind === 'uri') {
      if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) return v.slice(1, -1);
      return v; // CometBFT rejects bare strings; accepting them loses nothing and helps curl users
    }
    return v;
  }

  /** An int64 as a decimal string or number (JSON), or bare/quoted digits (URI). */
  int(name: string, opts: { min?: number; max?: number } = {}): number | undefined {
    let v = this.raw(name);
    if (v === undefined) return undefined;
    if (typeof v === 'string' && this.source.kind === 'uri' && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
    let n: number;
    if (typeof v === 'number') n = v;
    else if (typeof v === 'string' && /^-?\d{1,16}$/.test(v)) n = Number(v);
    else throw invalidParams(`${name}: expected an integer, got ${JSON.stringify(v)?.slice(0, 40)}`);
    if (!Number.isSafeInteger(n)) throw invalidParams(`${name}: expected an integer, got ${n}`);
    const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = opts;
    if (n < min || n > max) throw invalidParams(`${name}: ${n} is out of range [${min}, ${max}]`);
    return n;
  }

  bool(name: string): boolean | undefined {
    const v = this.raw(name);
    if (v === undefined) return undefined;
    if (typeof v === 'boolean') return v;
    if (v === 'true') return true;
    if (v === 'false') return false;
    throw invalidParams(`${name}: expected true or false`);
  }

  /**
   * Bytes. JSON: base64 (CometBFT's []byte), or hex when `encoding` is 'hex' (its HexBytes).
   * URI: 0x-prefixed hex, or a quoted string taken as its UTF-8 bytes.
   */
  bytes(name: string, encoding: 'base64' | 'hex'): Uint8Array | undefined {
    const v = this.raw(name);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw invalidParams(`${name}: expected a string`);
    try {
      if (this.source.kind === 'uri') {
        if (/^0x/i.test(v)) return fromHex(v.slice(2), name);
        if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) return new TextEncoder().encode(v.slice(1, -1));
        return encoding === 'hex' ? fromHex(v, name) : fromBase64(v, name);
      }
      if (encoding === 'hex') return fromHex(v.replace(/^0x/i, ''), name);
      return fromBase64(v, name);
    } catch (e) {
      if (e instanceof DecodeError) throw invalidParams(`${name}: ${e.message}`);
      throw e;
    }
  }

  /** A raw JSON value (URI form: the JSON text), for structured parameters like evidence. */
  json(name: string): Json | undefined {
    const v = this.raw(name);
    if (v === undefined || this.source.kind === 'json') return v;
    try {
      return JSON.parse(String(v)) as Json;
    } catch {
      throw invalidParams(`${name}: expected JSON`);
    }
  }

  /** A list of strings: a JSON array (URI: its JSON text, or comma-separated). */
  stringList(name: string, maxItems = 100): string[] | undefined {
    let v = this.raw(name);
    if (v === undefined) return undefined;
    if (this.source.kind === 'uri' && typeof v === 'string') v = v.trim().startsWith('[') ? this.json(name) : v.split(',').map((x) => x.trim().replace(/^"|"$/g, ''));
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw invalidParams(`${name}: expected an array of strings`);
    if (v.length > maxItems) throw invalidParams(`${name}: at most ${maxItems} items`);
    return v as string[];
  }

  /** A hash given as hex or base64 (cosmjs sends `tx` hashes as base64; humans type hex). */
  hash(name: string): Uint8Array | undefined {
    const v = this.raw(name);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw invalidParams(`${name}: expected a string`);
    const s = v.replace(/^"|"$/g, '').replace(/^0x/i, '');
    if (/^[0-9a-fA-F]{64}$/.test(s)) return fromHex(s, name);
    try {
      const b = fromBase64(s, name);
      if (b.length === 32) return b;
    } catch {
      // fall through to the error below
    }
    throw invalidParams(`${name}: expected a 32-byte hash as hex or base64`);
  }
}
