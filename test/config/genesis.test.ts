import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTime, toHex, type Json, type JsonObject } from '../../src/codec/index.js';
import { PrivKey, addressOf } from '../../src/crypto/index.js';
import {
  DEFAULT_CONSENSUS_PARAMS,
  GenesisError,
  formatGenesis,
  genesisFromJson,
  genesisValidators,
  makeGenesis,
  parseGenesis,
  validateGenesis,
  type GenesisDoc,
} from '../../src/types/genesis.js';
import { ROOT } from '../helpers/shared.js';

const keys = [PrivKey.generate(), PrivKey.generate(), PrivKey.generate()];

function sampleDoc(): GenesisDoc {
  return makeGenesis({
    chainId: 'test-chain',
    genesisTime: parseTime('2024-05-06T07:08:09.123456789Z'),
    validators: keys.map((k, i) => ({ pubKey: k.pubKey.bytes, power: BigInt(10 + i), name: `v${i}` })),
  });
}

function sampleJson(): JsonObject {
  return JSON.parse(formatGenesis(sampleDoc())) as JsonObject;
}

function genesisError(f: () => unknown): GenesisError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(GenesisError);
    return e as GenesisError;
  }
  throw new Error('expected a GenesisError');
}

/** Apply an edit to a fresh sample JSON and parse it. */
function parseEdited(edit: (o: JsonObject) => void): GenesisDoc {
  const o = sampleJson();
  edit(o);
  return parseGenesis(JSON.stringify(o));
}

const vals = (o: JsonObject): JsonObject[] => o.validators as JsonObject[];
const params = (o: JsonObject, section: string): JsonObject => (o.consensus_params as JsonObject)[section] as JsonObject;

describe('DEFAULT_CONSENSUS_PARAMS', () => {
  it('are CometBFT 0.38 defaults', () => {
    expect(DEFAULT_CONSENSUS_PARAMS.block).toEqual({ maxBytes: 22_020_096n, maxGas: -1n });
    expect(DEFAULT_CONSENSUS_PARAMS.evidence.maxAgeNumBlocks).toBe(100_000n);
    expect(DEFAULT_CONSENSUS_PARAMS.evidence.maxAgeDuration).toEqual({ seconds: 172_800, nanos: 0 });
    expect(DEFAULT_CONSENSUS_PARAMS.evidence.maxBytes).toBe(1_048_576n);
    expect(DEFAULT_CONSENSUS_PARAMS.validator.pubKeyTypes).toEqual(['ed25519']);
    expect(DEFAULT_CONSENSUS_PARAMS.version.app).toBe(0n);
    expect(DEFAULT_CONSENSUS_PARAMS.abci.voteExtensionsEnableHeight).toBe(0n);
  });
});

describe('writing', () => {
  it('uses CometBFT field order and forms', () => {
    const text = formatGenesis(sampleDoc());
    const o = JSON.parse(text) as JsonObject;
    expect(Object.keys(o)).toEqual(['genesis_time', 'chain_id', 'initial_height', 'consensus_params', 'validators', 'app_hash']);
    expect(o.genesis_time).toBe('2024-05-06T07:08:09.123456789Z');
    expect(o.initial_height).toBe('1');
    expect(o.app_hash).toBe('');
    expect(o.consensus_params).toEqual({
      block: { max_bytes: '22020096', max_gas: '-1' },
      evidence: { max_age_num_blocks: '100000', max_age_duration: '172800000000000', max_bytes: '1048576' },
      validator: { pub_key_types: ['ed25519'] },
      version: { app: '0' },
      abci: { vote_extensions_enable_height: '0' },
    });
    const v0 = vals(o)[0]!;
    expect(Object.keys(v0)).toEqual(['address', 'pub_key', 'power', 'name']);
    expect(v0.address).toBe(toHex(keys[0]!.pubKey.address));
    expect(v0.power).toBe('10');
    expect(v0.pub_key).toEqual({ type: 'tendermint/PubKeyEd25519', value: Buffer.from(keys[0]!.pubKey.bytes).toString('base64') });
    expect(text.endsWith('}\n')).toBe(true);
    expect(text).toContain('\n  "chain_id": "test-chain",\n'); // pretty, 2-space indent
  });

  it('round-trips', () => {
    const doc = sampleDoc();
    expect(parseGenesis(formatGenesis(doc))).toEqual(doc);
  });

  it('keeps app_state byte for byte, including numbers beyond 2^53', () => {
    const appState = '{"accounts": [{"addr": "a", "balance": 123456789012345678901234567890}],\n   "note": "x\\u00e9"}';
    const doc = makeGenesis({ chainId: 'c', genesisTime: parseTime('2024-01-01T00:00:00Z'), validators: [], appState });
    const text = formatGenesis(doc);
    expect(text).toContain(appState);
    const back = parseGenesis(text);
    expect(back.appState).toBe(appState);
    expect(formatGenesis(back)).toBe(text);
  });

  it('reads app_state of any JSON kind as its exact text', () => {
    for (const raw of ['null', '"s"', '[1, 2]', '12345678901234567890', 'true', '{}', '{"a":{"b":"}{]["}}']) {
      const text = `{"genesis_time":"2024-01-01T00:00:00Z","chain_id":"c","app_state":${raw}, "app_hash":""}`;
      expect(parseGenesis(text).appState).toBe(raw);
    }
  });

  it('refuses to write an invalid document', () => {
    expect(() => formatGenesis({ ...sampleDoc(), chainId: '' })).toThrow(GenesisError);
  });
});

describe('reading', () => {
  it('reads the example genesis', () => {
    const doc = parseGenesis(readFileSync(join(ROOT, 'genesis', 'example-genesis.json'), 'utf8'));
    expect(doc.validators).toHaveLength(4);
    expect(doc.chainId).toBe('tally-example-1');
    expect(doc.consensusParams).toEqual(DEFAULT_CONSENSUS_PARAMS);
  });

  it('fills defaults: initial_height 1 (also for "0"), params, empty app hash, derived addresses', () => {
    const text = JSON.stringify({
      genesis_time: '2024-01-01T00:00:00Z',
      chain_id: 'c',
      initial_height: '0',
      validators: [{ pub_key: { type: 'tendermint/PubKeyEd25519', value: Buffer.from(keys[0]!.pubKey.bytes).toString('base64') }, power: '5' }],
    });
    const doc = parseGenesis(text);
    expect(doc.initialHeight).toBe(1);
    expect(doc.consensusParams).toEqual(DEFAULT_CONSENSUS_PARAMS);
    expect(doc.appHash).toEqual(new Uint8Array(0));
    expect(doc.appState).toBeUndefined();
    expect(doc.validators[0]!.address).toEqual(addressOf(keys[0]!.pubKey.bytes));
    expect(doc.validators[0]!.name).toBe('');
    expect(genesisValidators(doc)[0]).toEqual({ address: doc.validators[0]!.address, pubKey: keys[0]!.pubKey.bytes, votingPower: 5n, proposerPriority: 0n });
  });

  it('accepts partial consensus params, taking defaults for the rest', () => {
    const doc = parseEdited((o) => {
      o.consensus_params = { block: { max_bytes: '-1' } };
    });
    expect(doc.consensusParams.block).toEqual({ maxBytes: -1n, maxGas: -1n });
    expect(doc.consensusParams.evidence).toEqual(DEFAULT_CONSENSUS_PARAMS.evidence);
  });

  it.each<[string, (o: JsonObject) => void, string, string]>([
    ['invalid JSON', () => {}, '', 'invalid JSON'],
    ['missing genesis_time', (o) => delete o.genesis_time, 'genesis_time', 'missing'],
    ['bad genesis_time', (o) => (o.genesis_time = '2024-13-01T00:00:00Z'), 'genesis_time', 'no such time'],
    ['missing chain_id', (o) => delete o.chain_id, 'chain_id', 'missing'],
    ['empty chain_id', (o) => (o.chain_id = ''), 'chain_id', 'must not be empty'],
    ['long chain_id', (o) => (o.chain_id = 'x'.repeat(51)), 'chain_id', 'at most 50'],
    ['negative initial_height', (o) => (o.initial_height = '-1'), 'initial_height', 'out of range'],
    ['initial_height not a number', (o) => (o.initial_height = 'one'), 'initial_height', 'int64'],
    ['unknown field', (o) => (o.validator = []), 'validator', 'unknown field'],
    ['validators not an array', (o) => (o.validators = {}), 'validators', 'expected an array'],
    ['address mismatch', (o) => (vals(o)[1]!.address = toHex(keys[0]!.pubKey.address)), 'validators[1].address', 'does not match the public key'],
    ['zero power', (o) => (vals(o)[2]!.power = '0'), 'validators[2].power', 'must be positive'],
    ['negative power', (o) => (vals(o)[0]!.power = '-5'), 'validators[0].power', 'must be positive'],
    ['missing power', (o) => delete vals(o)[0]!.power, 'validators[0].power', 'missing'],
    ['voting_power instead of power', (o) => ((vals(o)[0]!.voting_power = '1'), delete vals(o)[0]!.power), 'validators[0].voting_power', 'use "power"'],
    ['duplicate validator', (o) => (o.validators = [vals(o)[0]!, vals(o)[1]!, { ...vals(o)[0]!, name: 'again' }] as Json), 'validators[2].pub_key', 'duplicate'],
    ['bad key type', (o) => ((vals(o)[0]!.pub_key as JsonObject).type = 'tendermint/PubKeySecp256k1'), 'validators[0].pub_key.type', 'unsupported key type'],
    ['short key', (o) => ((vals(o)[0]!.pub_key as JsonObject).value = 'AAAA'), 'validators[0].pub_key.value', '32 bytes'],
    ['total power overflow', (o) => (vals(o)[0]!.power = '2000000000000000000'), 'validators[0].power', 'total voting power'],
    ['bad app_hash', (o) => (o.app_hash = 'xyz'), 'app_hash', 'hex'],
    ['block.max_bytes 0', (o) => (params(o, 'block').max_bytes = '0'), 'consensus_params.block.max_bytes', 'must not be 0'],
    ['block.max_bytes -2', (o) => (params(o, 'block').max_bytes = '-2'), 'consensus_params.block.max_bytes', '-1 or positive'],
    ['block.max_bytes too big', (o) => (params(o, 'block').max_bytes = '104857601'), 'consensus_params.block.max_bytes', 'at most 104857600'],
    ['block.max_gas -2', (o) => (params(o, 'block').max_gas = '-2'), 'consensus_params.block.max_gas', '-1'],
    ['evidence age 0', (o) => (params(o, 'evidence').max_age_num_blocks = '0'), 'consensus_params.evidence.max_age_num_blocks', 'positive'],
    ['evidence duration 0', (o) => (params(o, 'evidence').max_age_duration = '0'), 'consensus_params.evidence.max_age_duration', 'positive'],
    ['evidence bytes > block', (o) => (params(o, 'evidence').max_bytes = '30000000'), 'consensus_params.evidence.max_bytes', 'at most block.max_bytes'],
    ['no key types', (o) => (params(o, 'validator').pub_key_types = []), 'consensus_params.validator.pub_key_types', 'at least one'],
    ['unknown key type', (o) => (params(o, 'validator').pub_key_types = ['ed25519', 'rsa']), 'consensus_params.validator.pub_key_types[1]', 'unknown key type'],
    ['no ed25519', (o) => (params(o, 'validator').pub_key_types = ['secp256k1']), 'consensus_params.validator.pub_key_types', 'must include "ed25519"'],
    ['negative vote ext height', (o) => (params(o, 'abci').vote_extensions_enable_height = '-1'), 'consensus_params.abci.vote_extensions_enable_height', '≥ 0'],
    ['misspelt param', (o) => (params(o, 'block').max_byte = '5'), 'consensus_params.block.max_byte', 'unknown field'],
    ['unknown param section', (o) => ((o.consensus_params as JsonObject).synchrony = {}), 'consensus_params.synchrony', 'unknown section'],
  ])('rejects %s', (name, edit, path, msg) => {
    const e = genesisError(() => (name === 'invalid JSON' ? parseGenesis('{"chain_id": ') : parseEdited(edit)));
    expect(e.path).toBe(path);
    expect(e.message).toContain(msg);
    if (path) expect(e.message.startsWith(`${path}: `)).toBe(true);
  });

  it('rejects duplicated top-level fields (JSON.parse would keep the last silently)', () => {
    const text = formatGenesis(sampleDoc()).replace('"chain_id": "test-chain",', '"chain_id": "a", "chain_id": "test-chain",');
    expect(genesisError(() => parseGenesis(text)).path).toBe('chain_id');
  });

  it('genesisFromJson validates too', () => {
    expect(() => genesisFromJson({ genesis_time: '2024-01-01T00:00:00Z', chain_id: '' })).toThrow('chain_id: must not be empty');
  });

  it('validateGenesis checks documents built in code', () => {
    const doc = sampleDoc();
    expect(() => validateGenesis({ ...doc, initialHeight: 0 })).toThrow('initial_height');
    expect(() => validateGenesis({ ...doc, appState: '{' })).toThrow('app_state');
    expect(() => validateGenesis({ ...doc, validators: [{ ...doc.validators[0]!, address: new Uint8Array(20) }] })).toThrow('validators[0].address');
  });
});
