// The key files of a home directory, in CometBFT's JSON formats:
//   node_key.json              {"priv_key":{"type":"tendermint/PrivKeyEd25519","value":<base64 seed‖pub>}}
//   priv_validator_key.json    {"address":<HEX>,"pub_key":{…},"priv_key":{…}}
//   priv_validator_state.json  {"height":"0","round":0,"step":0[,"signature":…,"signbytes":…]}
// The node key doubles as the libp2p identity: the node id is the libp2p PeerId of the same
// ed25519 key (CometBFT's hex address form would not let libp2p authenticate peers by it).
// Key files are written atomically with mode 0600.
import { readFile } from 'node:fs/promises';
import { privateKeyFromRaw } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import {
  DecodeError,
  PRIVKEY_ED25519_TYPE,
  asBase64Bytes,
  asHexBytes,
  asObject,
  asString,
  parseJson,
  pubKeyFromJson,
  pubKeyToJson,
  toBase64,
  toHex,
  type Json,
  type JsonObject,
} from '../codec/index.js';
import { PrivKey, bytesEqual, type PubKey } from '../crypto/index.js';
import { ConfigError } from './errors.js';
import { writeFileAtomic } from '../fsutil/index.js';
import { INITIAL_SIGN_STATE, signStateFromJsonValue, signStateJson, type LastSignState } from '../privval/index.js';

/** The libp2p private key type (from @libp2p/crypto), without depending on @libp2p/interface directly. */
export type Libp2pPrivateKey = ReturnType<typeof privateKeyFromRaw>;

export const KEY_FILE_MODE = 0o600;

/** A bad field inside a key file; turned into a ConfigError naming the file by `decoding`. */
class FieldError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
  }
}

/** Run a decoder, turning any failure into a ConfigError naming the file (and field, if known). */
function decoding<T>(file: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof FieldError) throw new ConfigError(e.message, file, e.path);
    if (e instanceof DecodeError) {
      const prefix = `${e.path}: `;
      throw new ConfigError(e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message, file, e.path || undefined);
    }
    throw new ConfigError((e as Error).message, file);
  }
}

async function readJsonFile(path: string, what: string): Promise<Json> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(code === 'ENOENT' ? `${what} not found` : `cannot read ${what}: ${(e as Error).message}`, path);
  }
  return decoding(path, () => parseJson(text, ''));
}

function privKeyToJson(k: PrivKey): JsonObject {
  return { type: PRIVKEY_ED25519_TYPE, value: toBase64(k.cometBytes()) };
}

function privKeyFromJson(v: Json | undefined, path: string): PrivKey {
  const o = asObject(v, path);
  const type = asString(o.type, `${path}.type`);
  if (type !== PRIVKEY_ED25519_TYPE) throw new FieldError(`unsupported key type ${JSON.stringify(type)} (expected ${PRIVKEY_ED25519_TYPE})`, `${path}.type`);
  const bytes = asBase64Bytes(o.value, `${path}.value`);
  try {
    return PrivKey.fromCometBytes(bytes);
  } catch (e) {
    throw new FieldError((e as Error).message, `${path}.value`);
  }
}

function rejectUnknown(o: JsonObject, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new FieldError(`unknown field (expected ${allowed.join(', ')})`, k);
}

// ---- node key -------------------------------------------------------------------------------

export class NodeKey {
  /** The node id: the libp2p PeerId string ("12D3KooW…"). */
  readonly id: string;

  private constructor(readonly privKey: PrivKey) {
    this.id = peerIdFromPrivateKey(this.libp2pKey()).toString();
  }

  static generate(): NodeKey {
    return new NodeKey(PrivKey.generate());
  }

  static fromPrivKey(k: PrivKey): NodeKey {
    return new NodeKey(k);
  }

  get pubKey(): PubKey {
    return this.privKey.pubKey;
  }

  /** The same key as a libp2p private key (for createLibp2p({ privateKey })). */
  libp2pKey(): Libp2pPrivateKey {
    return privateKeyFromRaw(this.privKey.cometBytes());
  }

  toJson(): JsonObject {
    return { priv_key: privKeyToJson(this.privKey) };
  }

  static fromJson(v: Json, file = 'node_key.json'): NodeKey {
    return decoding(file, () => {
      const o = asObject(v, '');
      rejectUnknown(o, ['priv_key']);
      return new NodeKey(privKeyFromJson(o.priv_key, 'priv_key'));
    });
  }
}

export async function readNodeKey(path: string): Promise<NodeKey> {
  return NodeKey.fromJson(await readJsonFile(path, 'node key file'), path);
}

export async function writeNodeKey(path: string, key: NodeKey): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(key.toJson(), null, 2)}\n`, KEY_FILE_MODE);
}

// ---- private validator key ------------------------------------------------------------------

export class PrivValidatorKey {
  private constructor(readonly privKey: PrivKey) {}

  static generate(): PrivValidatorKey {
    return new PrivValidatorKey(PrivKey.generate());
  }

  static fromPrivKey(k: PrivKey): PrivValidatorKey {
    return new PrivValidatorKey(k);
  }

  get pubKey(): PubKey {
    return this.privKey.pubKey;
  }

  get address(): Uint8Array {
    return this.privKey.pubKey.address;
  }

  toJson(): JsonObject {
    return { address: toHex(this.address), pub_key: pubKeyToJson(this.pubKey.bytes), priv_key: privKeyToJson(this.privKey) };
  }

  /** Checks that address, pub_key and priv_key all describe the same key. */
  static fromJson(v: Json, file = 'priv_validator_key.json'): PrivValidatorKey {
    return decoding(file, () => {
      const o = asObject(v, '');
      rejectUnknown(o, ['address', 'pub_key', 'priv_key']);
      const priv = privKeyFromJson(o.priv_key, 'priv_key');
      const pub = pubKeyFromJson(o.pub_key, 'pub_key');
      if (!bytesEqual(pub, priv.pubKey.bytes)) throw new FieldError('does not match priv_key', 'pub_key');
      if (o.address === undefined) throw new FieldError('missing', 'address');
      const address = asHexBytes(o.address, 'address');
      if (!bytesEqual(address, priv.pubKey.address))
        throw new FieldError(`${toHex(address)} does not match pub_key (whose address is ${toHex(priv.pubKey.address)})`, 'address');
      return new PrivValidatorKey(priv);
    });
  }
}

export async function readPrivValidatorKey(path: string): Promise<PrivValidatorKey> {
  return PrivValidatorKey.fromJson(await readJsonFile(path, 'private validator key file'), path);
}

export async function writePrivValidatorKey(path: string, key: PrivValidatorKey): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(key.toJson(), null, 2)}\n`, KEY_FILE_MODE);
}

// ---- private validator state ----------------------------------------------------------------

/** The signer's last-sign state file; its format belongs to privval (the signer that writes it). */
export type PrivValidatorState = LastSignState;
export const INITIAL_PRIV_VALIDATOR_STATE: PrivValidatorState = INITIAL_SIGN_STATE;
export const privValidatorStateToJson = signStateJson;

export function privValidatorStateFromJson(v: Json, file = 'priv_validator_state.json'): PrivValidatorState {
  return decoding(file, () => signStateFromJsonValue(v));
}

export async function readPrivValidatorState(path: string): Promise<PrivValidatorState> {
  return privValidatorStateFromJson(await readJsonFile(path, 'private validator state file'), path);
}

export async function writePrivValidatorState(path: string, state: PrivValidatorState = INITIAL_PRIV_VALIDATOR_STATE): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(privValidatorStateToJson(state), null, 2)}\n`, KEY_FILE_MODE);
}
