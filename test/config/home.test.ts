import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64, toBase64, toHex } from '../../src/codec/index.js';
import { PrivKey } from '../../src/crypto/index.js';
import {
  ConfigError,
  INITIAL_PRIV_VALIDATOR_STATE,
  KEY_FILE_MODE,
  NodeKey,
  PrivValidatorKey,
  createLogger,
  defaultHome,
  formatPlainLine,
  initHome,
  loadHome,
  readNodeKey,
  readPrivValidatorKey,
  readPrivValidatorState,
  resetHome,
  writeNodeKey,
  writePrivValidatorKey,
  writePrivValidatorState,
} from '../../src/config/index.js';
import { writeFileAtomic } from '../../src/fsutil/index.js';

let tmp: string;
let n = 0;
const fresh = (): string => join(tmp, `h${n++}`);

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'tally-home-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function expectConfigError(p: Promise<unknown>, file: string, key: string | undefined, msg: string): Promise<void> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ConfigError);
  const ce = e as ConfigError;
  expect(ce.file).toBe(file);
  expect(ce.key).toBe(key);
  expect(ce.message).toContain(msg);
  expect(ce.message).toContain(file);
}

const mode = async (p: string): Promise<number> => (await stat(p)).mode & 0o777;

describe('node key', () => {
  it('round-trips through node_key.json with mode 0600', async () => {
    const dir = await mkdtemp(join(tmp, 'nk-'));
    const file = join(dir, 'node_key.json');
    const key = NodeKey.generate();
    await writeNodeKey(file, key);
    expect(await mode(file)).toBe(KEY_FILE_MODE);
    const json = JSON.parse(await readFile(file, 'utf8')) as { priv_key: { type: string; value: string } };
    expect(json.priv_key.type).toBe('tendermint/PrivKeyEd25519');
    expect(fromBase64(json.priv_key.value)).toHaveLength(64);
    const back = await readNodeKey(file);
    expect(back.id).toBe(key.id);
    expect(back.privKey.cometBytes()).toEqual(key.privKey.cometBytes());
    expect((await readNodeKey(file)).id).toBe(key.id); // stable across loads
  });

  it('has the libp2p peer id of the same ed25519 key', async () => {
    const seed = new Uint8Array(32).fill(7);
    const key = NodeKey.fromPrivKey(PrivKey.fromSeed(seed));
    const libp2p = await generateKeyPairFromSeed('Ed25519', seed);
    expect(key.id).toBe(peerIdFromPrivateKey(libp2p).toString());
    expect(key.id).toMatch(/^12D3KooW/);
    expect(peerIdFromString(key.id).toString()).toBe(key.id);
    expect(key.libp2pKey().publicKey.raw).toEqual(key.pubKey.bytes);
    expect(key.libp2pKey().raw).toEqual(libp2p.raw);
  });

  it('rejects malformed files, naming the file and field', async () => {
    const dir = await mkdtemp(join(tmp, 'nk-'));
    const file = join(dir, 'node_key.json');
    const good = NodeKey.generate().toJson();
    await expectConfigError(readNodeKey(file), file, undefined, 'node key file not found');
    await writeFile(file, '{ nope');
    await expectConfigError(readNodeKey(file), file, undefined, 'invalid JSON');
    await writeFile(file, JSON.stringify({ priv_key: { type: 'tendermint/PrivKeySecp256k1', value: 'AA==' } }));
    await expectConfigError(readNodeKey(file), file, 'priv_key.type', 'unsupported key type');
    await writeFile(file, JSON.stringify({ priv_key: { type: 'tendermint/PrivKeyEd25519', value: toBase64(new Uint8Array(32)) } }));
    await expectConfigError(readNodeKey(file), file, 'priv_key.value', '64 bytes');
    const bytes = PrivKey.generate().cometBytes();
    bytes[40]! ^= 1; // public half no longer matches the seed
    await writeFile(file, JSON.stringify({ priv_key: { type: 'tendermint/PrivKeyEd25519', value: toBase64(bytes) } }));
    await expectConfigError(readNodeKey(file), file, 'priv_key.value', 'public half does not match');
    await writeFile(file, JSON.stringify({ ...good, id: 'x' }));
    await expectConfigError(readNodeKey(file), file, 'id', 'unknown field');
    await writeFile(file, JSON.stringify({ priv_key: { type: 'tendermint/PrivKeyEd25519', value: '!!' } }));
    await expectConfigError(readNodeKey(file), file, 'priv_key.value', 'base64');
  });
});

describe('private validator key and state', () => {
  it('round-trip with mode 0600, in CometBFT format', async () => {
    const dir = await mkdtemp(join(tmp, 'pv-'));
    const file = join(dir, 'priv_validator_key.json');
    const key = PrivValidatorKey.generate();
    await writePrivValidatorKey(file, key);
    expect(await mode(file)).toBe(0o600);
    const json = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual(['address', 'pub_key', 'priv_key']);
    expect(json.address).toBe(toHex(key.address));
    expect(json.pub_key).toEqual({ type: 'tendermint/PubKeyEd25519', value: toBase64(key.pubKey.bytes) });
    const back = await readPrivValidatorKey(file);
    expect(back.address).toEqual(key.address);
    expect(back.privKey.cometBytes()).toEqual(key.privKey.cometBytes());

    const stateFile = join(dir, 'priv_validator_state.json');
    await writePrivValidatorState(stateFile);
    expect(await mode(stateFile)).toBe(0o600);
    expect(JSON.parse(await readFile(stateFile, 'utf8'))).toEqual({ height: '0', round: 0, step: 0 });
    expect(await readPrivValidatorState(stateFile)).toEqual(INITIAL_PRIV_VALIDATOR_STATE);
    const later = { height: 12, round: 1, step: 3, signature: new Uint8Array(64).fill(1), signBytes: new Uint8Array([1, 2]) };
    await writePrivValidatorState(stateFile, later);
    expect(JSON.parse(await readFile(stateFile, 'utf8'))).toEqual({ height: '12', round: 1, step: 3, signature: toBase64(later.signature), signbytes: '0102' });
    expect(await readPrivValidatorState(stateFile)).toEqual(later);
  });

  it('rejects mismatched or malformed keys, naming the file and field', async () => {
    const dir = await mkdtemp(join(tmp, 'pv-'));
    const file = join(dir, 'priv_validator_key.json');
    const a = PrivValidatorKey.generate().toJson();
    const b = PrivValidatorKey.generate().toJson();
    await writeFile(file, JSON.stringify({ ...a, address: b.address }));
    await expectConfigError(readPrivValidatorKey(file), file, 'address', 'does not match pub_key');
    await writeFile(file, JSON.stringify({ ...a, pub_key: b.pub_key }));
    await expectConfigError(readPrivValidatorKey(file), file, 'pub_key', 'does not match priv_key');
    await writeFile(file, JSON.stringify({ ...a, address: undefined }));
    await expectConfigError(readPrivValidatorKey(file), file, 'address', 'missing');
    await writeFile(file, JSON.stringify({ ...a, address: 'zz' }));
    await expectConfigError(readPrivValidatorKey(file), file, 'address', 'hex');
    await writeFile(file, JSON.stringify({ ...a, pub_key: { type: 'tendermint/PubKeyEd25519', value: 'AAAA' } }));
    await expectConfigError(readPrivValidatorKey(file), file, 'pub_key.value', '32 bytes');

    const state = join(dir, 'state.json');
    await writeFile(state, JSON.stringify({ height: '-1', round: 0, step: 0 }));
    await expectConfigError(readPrivValidatorState(state), state, 'height', 'out of range');
    await writeFile(state, JSON.stringify({ height: '1', round: 0, step: 4 }));
    await expectConfigError(readPrivValidatorState(state), state, 'step', '0..3');
    await writeFile(state, JSON.stringify({ height: 1, round: 0 }));
    await expectConfigError(readPrivValidatorState(state), state, 'step', 'int32');
  });
});

describe('home directory', () => {
  it('init creates the CometBFT layout with safe modes', async () => {
    const home = fresh();
    const r = await initHome(home, { chainId: 'chain-a', overrides: { moniker: 'alice', 'consensus.timeout_commit': '300ms' } });
    expect(r.events.map((e) => `${e.action} ${e.subject}`)).toEqual(['generated config file', 'generated private validator', 'generated node key', 'generated genesis file']);
    for (const f of ['config/config.toml', 'config/genesis.json', 'config/node_key.json', 'config/priv_validator_key.json', 'data/priv_validator_state.json'])
      expect((await stat(join(home, f))).isFile()).toBe(true);
    expect(await mode(join(home, 'config/node_key.json'))).toBe(0o600);
    expect(await mode(join(home, 'config/priv_validator_key.json'))).toBe(0o600);
    expect(await mode(join(home, 'data/priv_validator_state.json'))).toBe(0o600);
    expect(await mode(join(home, 'config'))).toBe(0o700);
    expect(await mode(join(home, 'data'))).toBe(0o700);
    expect(r.genesis.chainId).toBe('chain-a');
    expect(r.genesis.validators).toHaveLength(1);
    expect(r.genesis.validators[0]!.power).toBe(10n);
    expect(r.genesis.validators[0]!.name).toBe('alice');
    expect(r.genesis.validators[0]!.address).toEqual(r.privValidatorKey.address);
    expect(await readdir(join(home, 'config'))).not.toContainEqual(expect.stringMatching(/\.tmp$/));

    const loaded = await loadHome(home);
    expect(loaded.config.moniker).toBe('alice');
    expect(loaded.config.consensus.timeoutCommitMs).toBe(300);
    expect(loaded.nodeKey.id).toBe(r.nodeKey.id);
    expect(loaded.genesis).toEqual(r.genesis);
    expect(loaded.privValidatorState).toEqual(INITIAL_PRIV_VALIDATOR_STATE);
  });

  it('init a second time keeps every file', async () => {
    const home = fresh();
    const first = await initHome(home, { chainId: 'chain-b' });
    const before = await Promise.all(['config/config.toml', 'config/genesis.json', 'config/node_key.json', 'config/priv_validator_key.json'].map((f) => readFile(join(home, f), 'utf8')));
    const second = await initHome(home, { chainId: 'other', overrides: { moniker: 'ignored' } });
    expect(second.events.map((e) => e.action)).toEqual(['found', 'found', 'found', 'found']);
    const after = await Promise.all(['config/config.toml', 'config/genesis.json', 'config/node_key.json', 'config/priv_validator_key.json'].map((f) => readFile(join(home, f), 'utf8')));
    expect(after).toEqual(before);
    expect(second.nodeKey.id).toBe(first.nodeKey.id);
    expect(second.genesis.chainId).toBe('chain-b');
  });

  it('init fills in a missing file and keeps the rest', async () => {
    const home = fresh();
    const first = await initHome(home);
    expect(first.genesis.chainId).toMatch(/^tally-[0-9a-f]{6}$/);
    await rm(join(home, 'config/node_key.json'));
    const second = await initHome(home);
    expect(second.events.find((e) => e.subject === 'node key')!.action).toBe('generated');
    expect(second.nodeKey.id).not.toBe(first.nodeKey.id);
    expect(second.privValidatorKey.address).toEqual(first.privValidatorKey.address);
  });

  it('init rejects a bad chain id before writing anything', async () => {
    const home = fresh();
    await expect(initHome(home, { chainId: 'x'.repeat(51) })).rejects.toThrow('--chain-id');
    await expect(stat(home)).rejects.toThrow('ENOENT');
  });

  it('loadHome reports an uninitialised home and malformed files by name', async () => {
    const home = fresh();
    await expect(loadHome(home)).rejects.toThrow(/is not initialised: .*config\/config\.toml not found.*tally init --home/);
    await initHome(home);
    const genesisFile = join(home, 'config/genesis.json');
    const g = JSON.parse(await readFile(genesisFile, 'utf8')) as { validators: { power: string }[] };
    g.validators[0]!.power = '0';
    await writeFile(genesisFile, JSON.stringify(g));
    await expectConfigError(loadHome(home), genesisFile, 'validators[0].power', 'must be positive');
    await writeFile(genesisFile, '');
    await expectConfigError(loadHome(home), genesisFile, undefined, 'invalid JSON');
    await rm(genesisFile);
    await expectConfigError(loadHome(home), genesisFile, undefined, 'genesis file not found');
    const configFile = join(home, 'config/config.toml');
    await writeFile(configFile, 'moniker = "x"\n[rpc]\nlad = "y"\n');
    await expectConfigError(loadHome(home), configFile, 'rpc.lad', 'unknown key "lad" in [rpc]');
  });

  it('loadHome applies overrides over config.toml', async () => {
    const home = fresh();
    await initHome(home, { overrides: { 'rpc.laddr': 'tcp://127.0.0.1:1234' } });
    expect((await loadHome(home)).config.rpc.laddr).toBe('tcp://127.0.0.1:1234');
    expect((await loadHome(home, { 'rpc.laddr': 'tcp://127.0.0.1:4321' })).config.rpc.laddr).toBe('tcp://127.0.0.1:4321');
    await expect(loadHome(home, { 'rpc.nope': 'x' })).rejects.toThrow('unknown config key --rpc.nope');
  });

  it('resetHome removes data, resets the sign state and keeps the keys', async () => {
    const home = fresh();
    const r = await initHome(home);
    const stateFile = join(home, 'data/priv_validator_state.json');
    await writePrivValidatorState(stateFile, { ...INITIAL_PRIV_VALIDATOR_STATE, height: 50, step: 2 });
    await writeFile(join(home, 'data/blockstore.db'), 'x');
    await writeFile(join(home, 'data/priv_validator_state.log'), 'newer states of the signer');
    const out = await resetHome(home);
    expect(out.dbDir).toBe(join(home, 'data'));
    expect(await readdir(join(home, 'data'))).toEqual(['priv_validator_state.json']);
    expect(await readPrivValidatorState(stateFile)).toEqual(INITIAL_PRIV_VALIDATOR_STATE);
    const loaded = await loadHome(home);
    expect(loaded.privValidatorKey.address).toEqual(r.privValidatorKey.address);
    expect(loaded.nodeKey.id).toBe(r.nodeKey.id);
  });

  it('resetHome refuses a db_dir that holds the keys', async () => {
    const home = fresh();
    await initHome(home, { overrides: { db_dir: '.' } });
    await expect(resetHome(home)).rejects.toThrow(/refusing to delete/);
    expect((await stat(join(home, 'config/node_key.json'))).isFile()).toBe(true);
  });

  it('defaultHome is $TALLY_HOME, else ~/.tally', () => {
    expect(defaultHome({ TALLY_HOME: '/srv/tally' })).toBe('/srv/tally');
    expect(defaultHome({})).toMatch(/\.tally$/);
  });
});

describe('writeFileAtomic', () => {
  it('replaces the file and leaves no temp files', async () => {
    const dir = await mkdtemp(join(tmp, 'atomic-'));
    const f = join(dir, 'x.json');
    await writeFileAtomic(f, 'one', 0o640);
    await writeFileAtomic(f, 'two', 0o640);
    expect(await readFile(f, 'utf8')).toBe('two');
    expect(await mode(f)).toBe(0o640);
    expect(await readdir(dir)).toEqual(['x.json']);
  });
});

describe('logger', () => {
  it('plain format is one CometBFT-style line', () => {
    const line = formatPlainLine(JSON.stringify({ level: 'info', time: '2024-01-15T10:23:45.123Z', module: 'main', msg: 'Loaded home', moniker: 'a b', n: 3 }));
    expect(line).toBe('I[2024-01-15|10:23:45.123] Loaded home  module=main moniker="a b" n=3\n');
  });

  it('honours log_level, per module too, and both formats', async () => {
    const { forModule } = await import('../../src/config/index.js');
    const lines: string[] = [];
    const sink = { write: (s: string) => void lines.push(s) };
    const json = createLogger({ logLevel: 'p2p:debug,*:warn', logFormat: 'json' }, sink);
    json.info('hidden');
    json.warn({ a: 1 }, 'shown');
    forModule(json, 'p2p').debug('p2p debug');
    forModule(json, 'consensus').info('hidden too');
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['shown', 'p2p debug']);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'warn', a: 1 });
    lines.length = 0;
    createLogger({ logLevel: 'info', logFormat: 'plain' }, sink).info({ k: 'v' }, 'hello');
    expect(lines[0]).toMatch(/^I\[\d{4}-\d\d-\d\d\|\d\d:\d\d:\d\d\.\d{3}\] hello {2}k=v\n$/);
  });
});
