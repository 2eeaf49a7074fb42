// A test app whose CheckTx verdicts, gas and timing the test controls, and small helpers.
import { createHash } from 'node:crypto';
import { BaseApplication, CheckTxType, checkTxResponse, type RequestCheckTx, type ResponseCheckTx } from '../../src/abci/index.js';
import { Mempool, MempoolError, type MempoolLogger, type MempoolOptions, type RejectReason } from '../../src/mempool/index.js';

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
/** SHA-256 via node:crypto — independent of the code under test. */
export const hashHex = (tx: Uint8Array | string): string =>
  createHash('sha256')
    .update(typeof tx === 'string' ? enc(tx) : tx)
    .digest('hex')
    .toUpperCase();

export const INVALID_CODE = 7;

export interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
}

export function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Lets pending promise callbacks (and setImmediate-scheduled work) run. */
export const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

export interface CheckCall {
  readonly tx: string;
  readonly type: CheckTxType;
}

/** CheckTx verdicts by tx string: valid unless in `invalid`; gas from `gas` (default 1). */
export class ScriptedApp extends BaseApplication {
  readonly calls: CheckCall[] = [];
  readonly invalid = new Set<string>();
  readonly gas = new Map<string, bigint>();
  readonly throwOn = new Set<string>();
  /** While set, CheckTx calls of this type wait for it. */
  hold: { type: CheckTxType; until: Promise<void> } | null = null;
  /** Yield to the event loop inside every CheckTx (an async app). */
  yieldEachCall = false;
  inFlight = 0;
  maxInFlight = 0;

  override async checkTx(req: RequestCheckTx): Promise<ResponseCheckTx> {
    const s = dec(req.tx);
    this.calls.push({ tx: s, type: req.type });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.hold !== null && this.hold.type === req.type) await this.hold.until;
      if (this.yieldEachCall) await tick();
      if (this.throwOn.has(s)) throw new Error(`app broke on ${s}`);
      if (this.invalid.has(s)) return checkTxResponse({ code: INVALID_CODE, log: `invalid: ${s}`, codespace: 'test' });
      return checkTxResponse({ gasWanted: this.gas.get(s) ?? 1n, log: 'ok' });
    } finally {
      this.inFlight--;
    }
  }

  checks(type: CheckTxType): string[] {
    return this.calls.filter((c) => c.type === type).map((c) => c.tx);
  }
}

export function pool(opts: MempoolOptions = {}, app = new ScriptedApp(), logger?: MempoolLogger): { mp: Mempool; app: ScriptedApp } {
  return { mp: new Mempool(opts, logger === undefined ? { app } : { app, logger }), app };
}

/** The rejection of `p`, which must be a MempoolError with `reason`. */
export async function rejection(p: Promise<unknown>, reason: RejectReason): Promise<MempoolError> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  if (!(caught instanceof MempoolError)) throw new Error(`expected a MempoolError (${reason}), got ${String(caught)}`);
  if (caught.reason !== reason) throw new Error(`expected reason ${reason}, got ${caught.reason}: ${caught.message}`);
  return caught;
}

/** Adds each tx (all must be accepted). */
export async function addAll(mp: Mempool, txs: readonly string[], sender?: string): Promise<void> {
  for (const t of txs) {
    const r = await mp.checkTx(enc(t), sender === undefined ? {} : { sender });
    if (r.code !== 0) throw new Error(`tx ${t} rejected by the app: ${r.log}`);
  }
}

export const strs = (txs: readonly Uint8Array[]): string[] => txs.map(dec);

/** Commit `txs` at `height` with all-OK results (or the given codes). */
export async function commit(mp: Mempool, height: number, txs: readonly string[], codes: readonly number[] = txs.map(() => 0)): Promise<void> {
  await mp.withLock(() =>
    mp.update(
      height,
      txs.map(enc),
      codes.map((code) => ({ code })),
    ),
  );
}

/** A pino-shaped logger that keeps its entries. */
export class MemoryLogger implements MempoolLogger {
  readonly entries: { level: string; obj: object; msg: string }[] = [];
  debug(obj: object, msg: string): void {
    this.entries.push({ level: 'debug', obj, msg });
  }
  info(obj: object, msg: string): void {
    this.entries.push({ level: 'info', obj, msg });
  }
  warn(obj: object, msg: string): void {
    this.entries.push({ level: 'warn', obj, msg });
  }
}
