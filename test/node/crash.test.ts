// kill -9 a running validator at seeded random moments, 20 times, with txs flowing; restart it
// each time. Afterwards the chain must be whole and consistent, and the signer must never have
// signed one height/round/step with two different sign-bytes.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { decodeResponseFinalizeBlock } from '../../src/abci/index.js';
import { BlockIDFlag, toBase64, toHex } from '../../src/codec/index.js';
import { BlockStore, StateStore } from '../../src/store/index.js';
import { headerHash, verifyCommit } from '../../src/types/index.js';
import { ok, startTally } from '../helpers/tally.js';
import { prng } from '../helpers/prng.js';

const SEED = Number(process.env.CRASH_SEED ?? 0x5eed);
const KILLS = 20;

const dir = mkdtempSync(join(tmpdir(), 'tally-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface AuditLine {
  height: number;
  round: number;
  step: number;
  sign_bytes: string;
  signature: string;
}

describe(`kill -9 and restart, ${KILLS} times (seed ${SEED})`, () => {
  test('the chain continues where it was, whole and consistent, and nothing is double-signed', async () => {
    const home = join(dir, 'home');
    const audit = join(dir, 'audit.jsonl');
    await ok(['init', '--home', home, '--chain-id', 'crash-chain']);
    const rand = prng(SEED);
    const args = ['start', '--home', home, '--log_format', 'json', '--rpc.laddr', 'tcp://127.0.0.1:0', '--consensus.timeout_commit', '10ms', '--consensus.timeout_propose', '500ms'];
    let lastCommitted = 0;
    let txs = 0;
    for (let i = 0; i < KILLS; i++) {
      const node = startTally(args, { TALLY_PRIVVAL_AUDIT_LOG: audit });
      const started = await node.waitFor(/"height":(\d+),.*"msg":"handshake complete"/);
      // no committed block is ever lost: the restarted node starts at least where it was
      expect(Number(started[1]), `restart ${i} (seed ${SEED})`).toBeGreaterThanOrEqual(lastCommitted);
      const rpc = (await node.waitFor(/"rpc":"tcp:\/\/([\d.]+:\d+)"/))[1]!;
      // txs flow while the node runs; some are lost with the mempool at the kill, which is fine
      const sender = (async () => {
        for (let k = 0; k < 1000 && node.child.exitCode === null && node.child.signalCode === null; k++) {
          const tx = Buffer.from(`k${i}_${k}=v${k}`).toString('base64');
          await fetch(`http://${rpc}`, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id: k, method: 'broadcast_tx_async', params: { tx } }) }).catch(() => {});
          txs++;
          await new Promise((r) => setTimeout(r, 5));
        }
      })();
      await new Promise((r) => setTimeout(r, 50 + Math.floor(rand() * 900)));
      const code = await node.stop('SIGKILL');
      await sender;
      expect(code).toBeNull();
      for (const m of node.output().matchAll(/"height":(\d+),[^\n]*"msg":"committed block"/g)) lastCommitted = Math.max(lastCommitted, Number(m[1]));
    }
    // one last clean run that must still make progress
    const final = startTally(args, { TALLY_PRIVVAL_AUDIT_LOG: audit });
    await final.waitFor(new RegExp(`"height":${lastCommitted + 2},[^\\n]*"msg":"committed block"`), 60_000);
    expect(await final.stop()).toBe(0);
    expect(lastCommitted).toBeGreaterThan(KILLS); // the runs did commit blocks between kills
    expect(txs).toBeGreaterThan(0);

    // ---- the stores, read directly ----
    const blockStore = new BlockStore({ path: join(home, 'data', 'blockstore.db') });
    const stateStore = new StateStore({ path: join(home, 'data', 'state.db') });
    await blockStore.open();
    await stateStore.open();
    try {
      const state = (await stateStore.load())!;
      const top = blockStore.height();
      expect(blockStore.base()).toBe(1);
      expect(top).toBeGreaterThanOrEqual(lastCommitted + 2);
      expect(state.lastBlockHeight).toBe(top);
      let withTxs = 0;
      for (let h = 1; h <= top; h++) {
        const block = (await blockStore.loadBlock(h))!;
        expect(block, `block ${h}`).toBeDefined();
        if (block.data.txs.length) withTxs++;
        const meta = (await blockStore.loadBlockMeta(h))!;
        expect(toHex(meta.blockId.hash)).toBe(toHex(headerHash(block.header)));
        if (h > 1) {
          // consecutive: links to the previous block, whose commit it carries and verifies
          const prev = (await blockStore.loadBlockMeta(h - 1))!;
          expect(toHex(block.header.lastBlockId.hash)).toBe(toHex(prev.blockId.hash));
          verifyCommit('crash-chain', await stateStore.loadValidators(h - 1), prev.blockId, h - 1, block.lastCommit!);
          // the app hash in block h is what the app answered when executing block h-1
          const resp = decodeResponseFinalizeBlock((await stateStore.loadFinalizeBlockResponse(h - 1))!);
          expect(toHex(block.header.appHash), `app hash of block ${h}`).toBe(toHex(resp.appHash));
        }
      }
      const lastResp = decodeResponseFinalizeBlock((await stateStore.loadFinalizeBlockResponse(top))!);
      expect(toHex(state.appHash)).toBe(toHex(lastResp.appHash));
      expect(withTxs).toBeGreaterThan(0);

      // ---- no height/round/step signed twice with different bytes ----
      const lines = readFileSync(audit, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditLine);
      const byHrs = new Map<string, AuditLine>();
      for (const l of lines) {
        const key = `${l.height}/${l.round}/${l.step}`;
        const seen = byHrs.get(key);
        if (seen) {
          expect(l.sign_bytes, `sign-bytes at ${key}`).toBe(seen.sign_bytes);
          expect(l.signature, `signature at ${key}`).toBe(seen.signature);
        } else byHrs.set(key, l);
      }
      // every stored vote of ours (canonical and seen commits) is one the signer returned
      for (let h = 1; h <= top; h++) {
        for (const c of [await blockStore.loadCommit(h), await blockStore.loadSeenCommit(h)]) {
          if (!c) continue;
          for (const s of c.signatures) {
            if (s.blockIdFlag === BlockIDFlag.Absent) continue;
            const signed = byHrs.get(`${h}/${c.round}/3`);
            expect(signed, `precommit ${h}/${c.round} in the audit log`).toBeDefined();
            expect(toBase64(s.signature)).toBe(signed!.signature);
          }
        }
      }
    } finally {
      await blockStore.close();
      await stateStore.close();
    }
  }, 240_000);
});
