// The kvstore's transaction language, as CometBFT's kvstore example defines it:
//   key=value                      set key to value (split at the first '='; key and value non-empty)
//   anything-without-equals        set key = value = the whole tx
//   val=ed25519!<base64>!<power>   validator update (CometBFT 0.38's format; power 0 removes)
//   val:<base64>!<power>           the same in the older Tendermint kvstore format
// Differences from CometBFT 0.38, on purpose: a tx without '=' is accepted (as the README and
// older versions describe) instead of rejected, values may contain '=' (base64 values are
// common), and ':' is an ordinary byte rather than an alternative separator that only the
// proposer rewrites (which let a decided block carry txs Commit then choked on).

/** Result codes, as CometBFT's kvstore example numbers them (plus one of Tally's own). */
export const KVStoreCode = {
  OK: 0,
  EncodingError: 1,
  InvalidTxFormat: 2,
  Unauthorized: 3,
  Executed: 5,
  /** Query for a height other than the latest committed one. */
  HeightNotAvailable: 6,
} as const;

/** CometBFT's upper bound on the total voting power (MaxInt64 / 8); one update may not exceed it. */
export const MAX_VOTING_POWER = 1152921504606846975n;
export const ED25519_PUBKEY_SIZE = 32;
export const ED25519_KEY_TYPE = 'ed25519';

export type KVTx =
  | { readonly kind: 'set'; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly kind: 'validator'; readonly pubKey: Uint8Array; readonly power: bigint };

export type ParsedTx = { readonly ok: true; readonly tx: KVTx } | { readonly ok: false; readonly log: string };

const EQ = 0x3d;
const utf8 = new TextDecoder();
const VAL_PREFIX = 'val=';
const LEGACY_VAL_PREFIX = 'val:';
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;
const POWER_RE = /^(0|[1-9][0-9]{0,18})$/;

function startsWith(tx: Uint8Array, prefix: string): boolean {
  if (tx.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (tx[i] !== prefix.charCodeAt(i)) return false;
  return true;
}

function fail(log: string): ParsedTx {
  return { ok: false, log };
}

function parseValidator(fields: string[], expected: string): ParsedTx {
  const [pubB64, powerS] = fields.length === 2 ? fields : [undefined, undefined];
  if (pubB64 === undefined || powerS === undefined) return fail(`invalid validator tx: expected '${expected}'`);
  // canonical standard base64 only, so one key has exactly one tx spelling
  const pubKey = new Uint8Array(Buffer.from(pubB64, 'base64'));
  if (!BASE64_RE.test(pubB64) || pubB64.length % 4 !== 0 || Buffer.from(pubKey).toString('base64') !== pubB64) {
    return fail(`invalid validator tx: pubkey (${pubB64}) is not valid base64`);
  }
  if (pubKey.length !== ED25519_PUBKEY_SIZE) {
    return fail(`invalid validator tx: ed25519 pubkey must be ${ED25519_PUBKEY_SIZE} bytes, got ${pubKey.length}`);
  }
  if (!POWER_RE.test(powerS)) return fail(`invalid validator tx: power (${powerS}) is not a non-negative integer`);
  const power = BigInt(powerS);
  if (power > MAX_VOTING_POWER) return fail(`invalid validator tx: power ${power} exceeds the maximum ${MAX_VOTING_POWER}`);
  return { ok: true, tx: { kind: 'validator', pubKey, power } };
}

/** Parse one tx; `log` says what is wrong with a malformed one. Pure and deterministic. */
export function parseTx(tx: Uint8Array): ParsedTx {
  if (tx.length === 0) return fail('empty transaction');
  if (startsWith(tx, VAL_PREFIX)) {
    const fields = utf8.decode(tx.subarray(VAL_PREFIX.length)).split('!');
    const expected = 'val=ed25519!<base64 pubkey>!<power>';
    if (fields.length !== 3) return fail(`invalid validator tx: expected '${expected}'`);
    if (fields[0] !== ED25519_KEY_TYPE) return fail(`invalid validator tx: unsupported key type '${fields[0]}' (only ed25519)`);
    return parseValidator(fields.slice(1), expected);
  }
  if (startsWith(tx, LEGACY_VAL_PREFIX)) {
    return parseValidator(utf8.decode(tx.subarray(LEGACY_VAL_PREFIX.length)).split('!'), 'val:<base64 pubkey>!<power>');
  }
  const eq = tx.indexOf(EQ);
  if (eq < 0) return { ok: true, tx: { kind: 'set', key: tx, value: tx } };
  if (eq === 0) return fail("invalid tx: empty key (expected 'key=value')");
  if (eq === tx.length - 1) return fail("invalid tx: empty value (expected 'key=value')");
  return { ok: true, tx: { kind: 'set', key: tx.subarray(0, eq), value: tx.subarray(eq + 1) } };
}

/** The canonical 0.38 spelling of a validator update tx. */
export function validatorTx(pubKey: Uint8Array, power: bigint): Uint8Array {
  return new TextEncoder().encode(`${VAL_PREFIX}${ED25519_KEY_TYPE}!${Buffer.from(pubKey).toString('base64')}!${power}`);
}
