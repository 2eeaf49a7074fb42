// End-to-end tests of the built `tally` binary (dist/cli/main.js; `npm test` builds first).
// Every test spawns real processes in its own temp directory; they run concurrently.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initHome, readNodeKey } from '../../src/config/index.js';
import { ROOT } from '../helpers/shared.js';
import { BIN, ok, startTally, tally, type Run } from '../helpers/tally.js';


function expectCleanFailure(r: Run, ...fragments: string[]): void {
  expect(r.code).toBe(1);
  for (const f of fragments) expect(r.stderr).toContain(f);
  expect(r.stderr).not.toMatch(/^\s+at /m); // no stack trace
  expect(r.stderr.trim().split('\n').length).toBeLessThanOrEqual(3);
}

let tmp: string;
let n = 0;
const dir = (): string => join(tmp, `t${n++}`);

// One home made by `tally init` in beforeAll, shared by the tests that only read it; tests that
// modify a home make their own in-process (initHome) to keep the number of processes down.
let shared: string;
let sharedInit: Run;
let sharedId: string;

/** A fresh initialised home, made in-process. */
async function madeHome(): Promise<string> {
  const home = dir();
  await initHome(home);
  return home;
}

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` first (npm test does)`);
  tmp = await mkdtemp(join(tmpdir(), 'tally-cli-'));
  shared = dir();
  sharedInit = await ok(['init', '--home', shared, '--chain-id', 'cli-chain', '--moniker', 'alice']);
  sharedId = (await readNodeKey(join(shared, 'config/node_key.json'))).id;
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const HOME_FILES = ['config/config.toml', 'config/genesis.json', 'config/node_key.json', 'config/priv_validator_key.json', 'data/priv_validator_state.json'];

describe.concurrent('tally CLI', () => {
  it('init creates a complete home', async () => {
    const home = shared;
    const r = sharedInit;
    for (const f of HOME_FILES) expect(existsSync(join(home, f)), f).toBe(true);
    expect(r.stdout).toContain('Generated private validator');
    expect(r.stdout).toContain('Generated node key');
    expect(r.stdout).toContain('Generated genesis file');
    expect((await stat(join(home, 'config/priv_validator_key.json'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(home, 'config/node_key.json'))).mode & 0o777).toBe(0o600);
    const genesis = JSON.parse(await readFile(join(home, 'config/genesis.json'), 'utf8')) as { chain_id: string; validators: { power: string; name: string }[] };
    expect(genesis.chain_id).toBe('cli-chain');
    expect(genesis.validators).toEqual([expect.objectContaining({ power: '10', name: 'alice' })]);
    expect(await readFile(join(home, 'config/config.toml'), 'utf8')).toContain('moniker = "alice"');
    expect(JSON.parse(await readFile(join(home, 'data/priv_validator_state.json'), 'utf8'))).toEqual({ height: '0', round: 0, step: 0 });
  });

  it('init twice keeps the keys and genesis', async () => {
    const home = dir();
    await ok(['init', '--home', home]);
    const files = ['config/node_key.json', 'config/priv_validator_key.json', 'config/genesis.json', 'config/config.toml'];
    const before = await Promise.all(files.map((f) => readFile(join(home, f), 'utf8')));
    const r = await ok(['init', '--home', home, '--chain-id', 'different']);
    expect(r.stdout).toContain('Found private validator');
    expect(r.stdout).toContain('Found node key');
    expect(r.stdout).toContain('Found genesis file');
    expect(r.stdout).toContain('--chain-id was ignored');
    expect(await Promise.all(files.map((f) => readFile(join(home, f), 'utf8')))).toEqual(before);
  });

  it('show-node-id prints the peer id; $TALLY_HOME is the default home', async () => {
    const id = (await ok(['show-node-id'], { TALLY_HOME: shared })).stdout.trim();
    expect(id).toMatch(/^12D3KooW/);
    expect(id).toBe(sharedId);
  });

  it('testnet 4 makes four homes and a manifest matching each node id', async () => {
    const out = dir();
    await ok(['testnet', '--validators', '4', '--output', out, '--chain-id', 'tn-1', '--base-port', '30000', '--consensus.timeout_commit', '200ms']);
    expect((await readdir(out)).sort()).toEqual(['node0', 'node1', 'node2', 'node3', 'testnet.json']);
    const manifest = JSON.parse(await readFile(join(out, 'testnet.json'), 'utf8')) as {
      chain_id: string;
      nodes: { name: string; home: string; rpc: string; p2p: string; validator: boolean }[];
    };
    expect(manifest.chain_id).toBe('tn-1');
    expect(manifest.nodes.map((x) => x.name)).toEqual(['node0', 'node1', 'node2', 'node3']);
    const ids = await Promise.all(manifest.nodes.map(async (x) => (await ok(['show-node-id', '--home', x.home])).stdout.trim()));
    const genesisTexts = await Promise.all(manifest.nodes.map((x) => readFile(join(x.home, 'config/genesis.json'), 'utf8')));
    manifest.nodes.forEach((x, i) => {
      expect(x.home).toBe(join(out, `node${i}`));
      expect(x.validator).toBe(true);
      expect(x.rpc).toBe(`http://127.0.0.1:${30000 + 10 * i + 1}`);
      expect(x.p2p).toBe(`/ip4/127.0.0.1/tcp/${30000 + 10 * i}/p2p/${ids[i]}`);
      expect(genesisTexts[i]).toBe(genesisTexts[0]); // one shared genesis
    });
    const genesis = JSON.parse(genesisTexts[0]!) as { validators: { power: string; name: string }[] };
    expect(genesis.validators.map((v) => [v.name, v.power])).toEqual([0, 1, 2, 3].map((i) => [`node${i}`, '10']));
    const toml = await readFile(join(out, 'node2/config/config.toml'), 'utf8');
    expect(toml).toContain('moniker = "node2"');
    expect(toml).toContain('laddr = "/ip4/127.0.0.1/tcp/30020"');
    expect(toml).toContain('laddr = "tcp://127.0.0.1:30021"');
    expect(toml).toContain('prometheus_listen_addr = "127.0.0.1:30022"');
    expect(toml).toContain('timeout_commit = "200ms"');
    const peers = /persistent_peers = "([^"]*)"/.exec(toml)![1]!.split(',');
    expect(peers.sort()).toEqual([manifest.nodes[0]!.p2p, manifest.nodes[1]!.p2p, manifest.nodes[3]!.p2p].sort());
  });

  it('testnet refuses a non-empty output directory and per-node flags', async () => {
    const out = dir();
    await mkdir(out);
    await writeFile(join(out, 'keep.txt'), 'x');
    expectCleanFailure(await tally(['testnet', '--output', out]), 'tally testnet: --output:', 'is not empty');
    expectCleanFailure(await tally(['testnet', '--output', dir(), '--rpc.laddr', 'tcp://1.2.3.4:5']), '--rpc.laddr cannot be set for a testnet');
    expectCleanFailure(await tally(['testnet', '--output', dir(), '--validators', '0']), '--validators');
  });

  it('show-validator prints the key file’s pub key', async () => {
    const home = shared;
    const r = await ok(['show-validator', '--home', home]);
    const key = JSON.parse(await readFile(join(home, 'config/priv_validator_key.json'), 'utf8')) as { pub_key: unknown };
    expect(JSON.parse(r.stdout)).toEqual(key.pub_key);
    expect(JSON.parse(r.stdout)).toMatchObject({ type: 'tendermint/PubKeyEd25519' });
  });

  it('start on an uninitialised home fails clearly', async () => {
    const home = dir();
    const r = await tally(['start', '--home', home]);
    expectCleanFailure(r, 'tally start: ', `home ${home} is not initialised`, join(home, 'config/config.toml'), 'tally init');
  });

  it('start loads the home (logging what it loaded, with overrides), runs a validator, and stops cleanly on SIGTERM', async () => {
    const home = shared;
    const id = sharedId;
    const node = startTally(['start', '--home', home, '--rpc.laddr', 'tcp://127.0.0.1:0', '--log_format', 'json', '--consensus.timeout_commit=50ms']);
    try {
      await node.waitFor(/"height":2,.*"msg":"committed block"/);
    } finally {
      expect(await node.stop()).toBe(0);
    }
    const lines = node.output().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const loaded = lines.find((l) => l.msg === 'Loaded home')!;
    expect(loaded).toMatchObject({ module: 'main', chain_id: 'cli-chain', node_id: id, rpc_laddr: 'tcp://127.0.0.1:0', p2p_laddr: '/ip4/0.0.0.0/tcp/26656' });
    expect(loaded.validator_address).toMatch(/^[0-9A-F]{40}$/);
    expect(lines.some((l) => l.msg === 'stopping' && l.signal === 'SIGTERM')).toBe(true);
  });

  it('start --init-if-missing initialises first', async () => {
    const home = dir();
    const node = startTally(['start', '--home', home, '--init-if-missing', '--rpc.laddr', 'tcp://127.0.0.1:0', '--consensus.timeout_commit=50ms']);
    try {
      await node.waitFor(/committed block/);
    } finally {
      expect(await node.stop()).toBe(0);
    }
    expect(node.output()).toContain('Generated genesis file');
    expect(node.output()).toContain('Loaded home');
    for (const f of HOME_FILES) expect(existsSync(join(home, f)), f).toBe(true);
  });

  it('start with consensus.double_sign_check_height refuses a key that signed the last blocks, and says how to go on', async () => {
    const home = dir();
    const addr = ['--rpc.laddr', 'tcp://127.0.0.1:0', '--p2p.laddr', '/ip4/127.0.0.1/tcp/0'];
    const node = startTally(['start', '--home', home, '--init-if-missing', ...addr, '--consensus.timeout_commit=50ms']);
    try {
      await node.waitFor(/committed block/);
    } finally {
      expect(await node.stop()).toBe(0);
    }
    // the lone validator signed every block: started again with the check, it must not vote
    const r = await tally(['start', '--home', home, ...addr, '--consensus.double_sign_check_height', '3']);
    expectCleanFailure(r, 'tally start: ', "double-sign risk: the commit of height", "signed with this node's key", 'double_sign_check_height = 0');
  });

  it('start rejects unknown and malformed overrides, naming the flag', async () => {
    const home = shared;
    const [unknown, badDuration, badInt, missing] = await Promise.all([
      tally(['start', '--home', home, '--rpc.laddrr', 'tcp://127.0.0.1:1']),
      tally(['start', '--home', home, '--consensus.timeout_commit', 'soon']),
      tally(['start', '--home', home, '--mempool.size', 'many']),
      tally(['start', '--home', home, '--rpc.laddr']),
    ]);
    expectCleanFailure(unknown, "tally start: unknown option '--rpc.laddrr'", '--rpc.laddr?');
    expectCleanFailure(badDuration, '--consensus.timeout_commit', 'invalid duration "soon"');
    expectCleanFailure(badInt, '--mempool.size', 'expected an integer');
    expectCleanFailure(missing, '--rpc.laddr');
  });

  it('start names the file and field of a malformed key file', async () => {
    const home = await madeHome();
    const keyFile = join(home, 'config/priv_validator_key.json');
    const key = JSON.parse(await readFile(keyFile, 'utf8')) as { address: string };
    key.address = '00'.repeat(20);
    await writeFile(keyFile, JSON.stringify(key));
    expectCleanFailure(await tally(['start', '--home', home]), `tally start: ${keyFile}: address:`, 'does not match pub_key');
    const debug = await tally(['start', '--home', home], { TALLY_DEBUG: '1' });
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(/^\s+at /m); // stack trace only on request
  });

  it('unsafe-reset-all clears data, resets the sign state, keeps keys', async () => {
    const home = await madeHome();
    const keyBefore = await readFile(join(home, 'config/priv_validator_key.json'), 'utf8');
    await writeFile(join(home, 'data/priv_validator_state.json'), JSON.stringify({ height: '99', round: 2, step: 3 }));
    await mkdir(join(home, 'data/blockstore.db'));
    await writeFile(join(home, 'config/addrbook.json'), JSON.stringify({ version: 1, peers: [] }));
    const r = await ok(['unsafe-reset-all', '--home', home]);
    expect(r.stdout).toContain('Removed all blockchain history');
    expect(await readdir(join(home, 'config'))).not.toContain('addrbook.json'); // as CometBFT's reset
    expect(await readdir(join(home, 'data'))).toEqual(['priv_validator_state.json']);
    expect(JSON.parse(await readFile(join(home, 'data/priv_validator_state.json'), 'utf8'))).toEqual({ height: '0', round: 0, step: 0 });
    expect(await readFile(join(home, 'config/priv_validator_key.json'), 'utf8')).toBe(keyBefore);
    expectCleanFailure(await tally(['unsafe-reset-all', '--home', dir()]), 'is not initialised');
  });

  it('version prints the package and CometBFT-compatible versions', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const [plain, json, flag] = await Promise.all([ok(['version']), ok(['version', '--json']), ok(['--version'])]);
    expect(plain.stdout).toBe(`tally ${pkg.version}\ncometbft 0.38.0-tally.${pkg.version}\n`);
    expect(JSON.parse(json.stdout)).toEqual({ tally: pkg.version, cometbft: `0.38.0-tally.${pkg.version}` });
    expect(flag.stdout.trim()).toBe(pkg.version);
  });

  it('every command has --help, and unknown commands fail', async () => {
    // Commander generates --help for every command; check the top level and the two big ones.
    const cmds = ['start', 'testnet'];
    const runs = await Promise.all(cmds.map((c) => tally([c, '--help'])));
    runs.forEach((r, i) => {
      expect(r.code, cmds[i]).toBe(0);
      expect(r.stdout).toContain(`Usage: tally ${cmds[i]}`);
      expect(r.stdout).toContain('--consensus.timeout_commit <value>');
      expect(r.stdout).toContain('Config overrides');
    });
    const top = await ok(['--help']);
    for (const c of ['init', 'start', 'testnet', 'show-node-id', 'show-validator', 'unsafe-reset-all', 'version']) expect(top.stdout).toContain(c);
    expectCleanFailure(await tally(['frobnicate']), "unknown command 'frobnicate'");
  });
});
