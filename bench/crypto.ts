// Sign and verify throughput of both ed25519 backends, side by side in one run, plus the costs
// that sit beside them on hot paths (sha256 of a vote's sign-bytes, a 1000-leaf merkle root).
// Prints one JSON line.
import '../src/polyfill/index.js';
import { PrivKey, merkleRoot, nobleBackend, nodeBackend, sha256, type Ed25519Backend } from '../src/crypto/index.js';
import { lineHead } from './shared.js';

const MIN_MS = Number(process.env.BENCH_MIN_MS ?? 1500);

/** Runs `fn` in batches until MIN_MS has passed; returns operations per second. */
function opsPerSecond(fn: (i: number) => void, batch = 100): number {
  for (let i = 0; i < batch; i++) fn(i); // warm-up
  let ops = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < MIN_MS) {
    for (let i = 0; i < batch; i++) fn(ops + i);
    ops += batch;
    elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  }
  return Math.round((ops / elapsed) * 1000);
}

const key = PrivKey.fromSeed(sha256(new TextEncoder().encode('bench')));
const seed = key.seedBytes(); // one array for the whole run, as a PrivKey holds it
// A vote's sign-bytes are ~110 bytes; use distinct messages so no cache helps.
const messages = Array.from({ length: 1024 }, (_, i) => sha256(new Uint8Array([i & 0xff, i >> 8])).slice(0, 32));
const msg = (i: number): Uint8Array => {
  const m = new Uint8Array(110);
  m.set(messages[i % messages.length]!, 0);
  return m;
};

function measure(b: Ed25519Backend): { sign: number; verify: number } {
  const sigs = messages.map((_, i) => b.sign(seed, msg(i)));
  const sign = opsPerSecond((i) => b.sign(seed, msg(i)));
  const verify = opsPerSecond((i) => {
    if (!b.verify(key.pubKey.bytes, msg(i), sigs[i % sigs.length]!)) throw new Error('verification failed');
  });
  return { sign, verify };
}

const noble = measure(nobleBackend);
const node = measure(nodeBackend);
const leaves = Array.from({ length: 1000 }, (_, i) => msg(i));

const result = {
  ...lineHead('crypto'),
  noble_sign_per_s: noble.sign,
  noble_verify_per_s: noble.verify,
  node_sign_per_s: node.sign,
  node_verify_per_s: node.verify,
  verify_ratio_node_over_noble: Number((node.verify / noble.verify).toFixed(1)),
  sign_ratio_node_over_noble: Number((node.sign / noble.sign).toFixed(1)),
  sha256_110b_per_s: opsPerSecond((i) => sha256(msg(i))),
  merkle_root_1000_leaves_per_s: opsPerSecond(() => merkleRoot(leaves), 5),
};
console.log(JSON.stringify(result));
