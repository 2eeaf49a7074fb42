export { CryptoError } from './errors.js';
export { sha256, EMPTY_HASH, HASH_SIZE } from './hash.js';
export {
  merkleRoot,
  merkleRootOfRepeats,
  merkleProofs,
  rootFromProof,
  verifyProof,
  leafHash,
  innerHash,
  bytesEqual,
  compareBytes,
  MAX_AUNTS,
  type MerkleProof,
} from './merkle.js';
export {
  PrivKey,
  PubKey,
  addressOf,
  nobleBackend,
  nodeBackend,
  PUBKEY_SIZE,
  SEED_SIZE,
  SIGNATURE_SIZE,
  ADDRESS_SIZE,
  type Ed25519Backend,
} from './ed25519.js';
