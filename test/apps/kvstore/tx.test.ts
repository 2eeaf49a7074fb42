import { afterAll, describe, expect, test } from 'vitest';
import { CheckTxType, ProcessProposalStatus, type RequestPrepareProposal } from '../../../src/abci/index.js';
import { KVStoreCode, MAX_VOTING_POWER, parseTx, validatorTx } from '../../../src/apps/kvstore/index.js';
import { Scratch, dec, enc, validatorKey } from './helpers.js';

const scratch = new Scratch();
afterAll(() => scratch.cleanup());

const pub = validatorKey(1).pubKey.bytes;
const b64 = Buffer.from(pub).toString('base64');

describe('tx parsing', () => {
  test('key=value splits at the first =; values may contain =', () => {
    expect(parseTx(enc('name=satoshi'))).toEqual({ ok: true, tx: { kind: 'set', key: enc('name'), value: enc('satoshi') } });
    const p = parseTx(enc('k=YWJj=='));
    expect(p.ok && p.tx.kind === 'set' && [dec(p.tx.key), dec(p.tx.value)]).toEqual(['k', 'YWJj==']);
  });

  test('a tx without = is key and value at once, bytes verbatim', () => {
    const raw = Uint8Array.of(0xff, 0x00, 0x3a, 0x01);
    expect(parseTx(raw)).toEqual({ ok: true, tx: { kind: 'set', key: raw, value: raw } });
    expect(parseTx(enc('abcd'))).toEqual({ ok: true, tx: { kind: 'set', key: enc('abcd'), value: enc('abcd') } });
  });

  test('validator updates in CometBFT 0.38 form and the older val: form', () => {
    expect(parseTx(enc(`val=ed25519!${b64}!10`))).toEqual({ ok: true, tx: { kind: 'validator', pubKey: pub, power: 10n } });
    expect(parseTx(enc(`val:${b64}!0`))).toEqual({ ok: true, tx: { kind: 'validator', pubKey: pub, power: 0n } });
    expect(parseTx(validatorTx(pub, 7n))).toEqual({ ok: true, tx: { kind: 'validator', pubKey: pub, power: 7n } });
    expect(dec(validatorTx(pub, 7n))).toBe(`val=ed25519!${b64}!7`);
    expect(parseTx(enc(`val=ed25519!${b64}!${MAX_VOTING_POWER}`)).ok).toBe(true);
  });

  test.each([
    ['', /empty transaction/],
    ['=v', /empty key/],
    ['k=', /empty value/],
    [`val=ed25519!${b64}`, /expected 'val=ed25519!<base64 pubkey>!<power>'/],
    [`val=secp256k1!${b64}!1`, /unsupported key type 'secp256k1'/],
    [`val=ed25519!not*base64!1`, /not valid base64/],
    [`val=ed25519!${b64.slice(0, -1)}!1`, /not valid base64/],
    [`val=ed25519!${Buffer.from(pub.subarray(0, 31)).toString('base64')}!1`, /must be 32 bytes, got 31/],
    [`val=ed25519!${b64}!-1`, /power \(-1\) is not a non-negative integer/],
    [`val=ed25519!${b64}!1.5`, /not a non-negative integer/],
    [`val=ed25519!${b64}!010`, /not a non-negative integer/],
    [`val=ed25519!${b64}!${MAX_VOTING_POWER + 1n}`, /exceeds the maximum/],
    [`val:${b64}`, /expected 'val:<base64 pubkey>!<power>'/],
    ['val=foo', /expected 'val=ed25519/],
  ])('rejects %j', (tx, log) => {
    const p = parseTx(enc(tx));
    expect(p.ok).toBe(false);
    if (!p.ok) expect(p.log).toMatch(log);
  });
});

describe('kvstore mempool and proposal checks', () => {
  test('checkTx: malformed → InvalidTxFormat (2) with a clear log; good → 0 and gas 1; recheck alike', async () => {
    const app = await scratch.open();
    for (const type of [CheckTxType.New, CheckTxType.Recheck]) {
      const bad = await app.checkTx({ tx: enc('=oops'), type });
      expect(bad.code).toBe(KVStoreCode.InvalidTxFormat);
      expect(bad.log).toMatch(/empty key/);
      const badVal = await app.checkTx({ tx: enc('val=ed25519!AAAA!1'), type });
      expect(badVal.code).toBe(2);
      expect(badVal.log).toMatch(/must be 32 bytes/);
      const good = await app.checkTx({ tx: enc('a=b'), type });
      expect(good).toMatchObject({ code: 0, gasWanted: 1n, log: '' });
    }
  });

  test('prepareProposal drops malformed txs and respects maxTxBytes; processProposal rejects blocks with them', async () => {
    const app = await scratch.open();
    const req = (txs: Uint8Array[], maxTxBytes: number): RequestPrepareProposal => ({
      maxTxBytes,
      txs,
      localLastCommit: { round: 0, votes: [] },
      misbehavior: [],
      height: 1,
      time: { seconds: 1, nanos: 0 },
      nextValidatorsHash: new Uint8Array(32),
      proposerAddress: new Uint8Array(20),
    });
    const txs = [enc('a=1'), enc('=bad'), enc('b=2'), enc('c=3')];
    expect((await app.prepareProposal(req(txs, 1000))).txs).toEqual([enc('a=1'), enc('b=2'), enc('c=3')]);
    expect((await app.prepareProposal(req(txs, 6))).txs).toEqual([enc('a=1'), enc('b=2')]);
    const proc = (t: Uint8Array[]) =>
      app.processProposal({ txs: t, proposedLastCommit: { round: 0, votes: [] }, misbehavior: [], hash: new Uint8Array(32), height: 1, time: { seconds: 1, nanos: 0 }, nextValidatorsHash: new Uint8Array(32), proposerAddress: new Uint8Array(20) });
    expect((await proc([enc('a=1')])).status).toBe(ProcessProposalStatus.Accept);
    expect((await proc(txs)).status).toBe(ProcessProposalStatus.Reject);
  });
});
