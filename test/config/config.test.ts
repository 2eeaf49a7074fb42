import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  FIELDS,
  NodeKey,
  OVERRIDE_KEYS,
  applyOverrides,
  defaultConfig,
  formatDuration,
  getField,
  ignoredSettings,
  parseConfigToml,
  renderConfigToml,
  validateConfig,
  type Config,
  type FieldInfo,
  type FieldValue,
} from '../../src/config/index.js';

const PEER = NodeKey.generate().id;
const PEER2 = NodeKey.generate().id;

/** Parse a small TOML snippet over the defaults. */
const parse = (toml: string): Config => parseConfigToml(toml, 'test.toml');

function errorOf(f: () => unknown): ConfigError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('defaults', () => {
  it('match CometBFT (and the brief) where a key exists there', () => {
    const c = defaultConfig();
    expect(c.dbBackend).toBe('classic-level');
    expect(c.dbDir).toBe('data');
    expect(c.logLevel).toBe('info');
    expect(c.logFormat).toBe('plain');
    expect(c.genesisFile).toBe('config/genesis.json');
    expect(c.privValidatorKeyFile).toBe('config/priv_validator_key.json');
    expect(c.privValidatorStateFile).toBe('data/priv_validator_state.json');
    expect(c.nodeKeyFile).toBe('config/node_key.json');
    expect(c.moniker.length).toBeGreaterThan(0);
    expect(c.rpc).toEqual({
      laddr: 'tcp://127.0.0.1:26657',
      corsAllowedOrigins: [],
      maxOpenConnections: 900,
      maxSubscriptionClients: 100,
      maxSubscriptionsPerClient: 5,
      timeoutBroadcastTxCommitMs: 10_000,
      maxRequestBatchSize: 10,
      maxBodyBytes: 1_000_000,
      maxHeaderBytes: 1_048_576,
      unsafe: false,
    });
    expect(c.p2p.laddr).toBe('/ip4/0.0.0.0/tcp/26656');
    expect(c.p2p.maxNumInboundPeers).toBe(40);
    expect(c.p2p.maxNumOutboundPeers).toBe(10);
    expect(c.p2p.pex).toBe(true);
    expect(c.p2p.persistentPeers).toEqual([]);
    expect(c.mempool).toEqual({ size: 5000, maxTxsBytes: 67_108_864, maxTxBytes: 1_048_576, cacheSize: 10_000, recheck: true, keepInvalidTxsInCache: false, broadcast: true });
    expect(c.statesync.enable).toBe(false);
    expect(c.statesync.trustPeriodMs).toBe(168 * 3600 * 1000);
    expect(c.blocksync.version).toBe('v0');
    expect(c.consensus.timeoutProposeMs).toBe(3000);
    expect(c.consensus.timeoutProposeDeltaMs).toBe(500);
    expect(c.consensus.timeoutPrevoteMs).toBe(1000);
    expect(c.consensus.timeoutPrecommitMs).toBe(1000);
    expect(c.consensus.timeoutCommitMs).toBe(1000);
    expect(c.consensus.createEmptyBlocks).toBe(true);
    expect(c.consensus.createEmptyBlocksIntervalMs).toBe(0);
    expect(c.consensus.doubleSignCheckHeight).toBe(0);
    expect(c.consensus.walFile).toBe('data/cs.wal/wal');
    expect(c.storage.discardAbciResponses).toBe(false);
    expect(c.txIndex.indexer).toBe('kv');
    expect(c.instrumentation).toEqual({ prometheus: false, prometheusListenAddr: ':26660', namespace: 'tally' });
  });

  it('are valid', () => {
    expect(() => validateConfig(defaultConfig())).not.toThrow();
  });

  it('are fresh copies', () => {
    const a = defaultConfig();
    a.rpc.corsAllowedOrigins.push('x');
    a.rpc.laddr = 'tcp://1.2.3.4:1';
    expect(defaultConfig().rpc.corsAllowedOrigins).toEqual([]);
    expect(defaultConfig().rpc.laddr).toBe('tcp://127.0.0.1:26657');
  });
});

describe('config.toml template', () => {
  it('round-trips the defaults: write → parse → equal', () => {
    const d = defaultConfig();
    expect(parse(renderConfigToml(d))).toEqual(d);
  });

  it('round-trips a config with every key changed', () => {
    const changed = applyOverrides(defaultConfig(), Object.fromEntries(FIELDS.map((f) => [f.path, sample(f).flag])));
    const text = renderConfigToml(changed);
    expect(parse(text)).toEqual(changed);
    expect(text).toContain(`persistent_peers = "/ip4/10.0.0.1/tcp/26656/p2p/${PEER},/dns4/b.example.com/tcp/26656/p2p/${PEER2}"`);
    expect(text).toContain('timeout_commit = "2s"');
  });

  it('writes every key, each preceded by a comment, in CometBFT sections', () => {
    const text = renderConfigToml(defaultConfig());
    const lines = text.split('\n');
    let table: string | null = null;
    const seen: string[] = [];
    lines.forEach((line, i) => {
      const t = /^\[([a-z0-9_]+)\]$/.exec(line);
      if (t) table = t[1]!;
      const m = /^([a-z_-]+) = /.exec(line); // CometBFT has one hyphenated key (keep-invalid-txs-in-cache)
      if (!m) return;
      seen.push(table === null ? m[1]! : `${table}.${m[1]}`);
      expect(lines[i - 1], `comment above ${m[1]}`).toMatch(/^# ./);
    });
    expect(seen).toEqual(FIELDS.map((f) => f.path));
    for (const t of ['rpc', 'p2p', 'mempool', 'statesync', 'blocksync', 'consensus', 'storage', 'tx_index', 'instrumentation']) expect(text).toContain(`\n[${t}]\n`);
  });

  it('writes durations as Go strings and peers as a comma-separated string', () => {
    const text = renderConfigToml(defaultConfig());
    expect(text).toContain('timeout_propose = "3s"');
    expect(text).toContain('timeout_propose_delta = "500ms"');
    expect(text).toContain('trust_period = "168h0m0s"');
    expect(text).toContain('create_empty_blocks_interval = "0s"');
    expect(text).toContain('persistent_peers = ""');
    expect(text).toContain('cors_allowed_origins = []');
  });

  it('escapes strings (a moniker with quotes and unicode survives)', () => {
    const c = defaultConfig();
    c.moniker = 'my "node" — ü';
    expect(parse(renderConfigToml(c)).moniker).toBe('my "node" — ü');
  });
});

describe('reading config.toml', () => {
  it('takes defaults for missing keys and values for present ones', () => {
    const c = parse('moniker = "m"\n[consensus]\ntimeout_commit = "250ms"\n[rpc]\ncors_allowed_origins = ["*"]\n');
    expect(c.moniker).toBe('m');
    expect(c.consensus.timeoutCommitMs).toBe(250);
    expect(c.rpc.corsAllowedOrigins).toEqual(['*']);
    expect(c.consensus.timeoutProposeMs).toBe(3000);
    expect(c.mempool.size).toBe(5000);
  });

  it('converts tcp://host:port in p2p.laddr to a multiaddr', () => {
    expect(parse('[p2p]\nladdr = "tcp://0.0.0.0:26656"').p2p.laddr).toBe('/ip4/0.0.0.0/tcp/26656');
    expect(parse('[p2p]\nladdr = "tcp://[::]:26656"').p2p.laddr).toBe('/ip6/::/tcp/26656');
  });

  it('splits comma-separated peers', () => {
    const c = parse(`[p2p]\npersistent_peers = " /ip4/1.2.3.4/tcp/26656/p2p/${PEER} , /ip4/1.2.3.5/tcp/26656/p2p/${PEER2}"`);
    expect(c.p2p.persistentPeers).toEqual([`/ip4/1.2.3.4/tcp/26656/p2p/${PEER}`, `/ip4/1.2.3.5/tcp/26656/p2p/${PEER2}`]);
  });

  it.each([
    ['monikr = "x"', 'monikr', 'did you mean "moniker"'],
    ['[rpc]\nladr = "tcp://1.2.3.4:1"', 'rpc.ladr', 'did you mean "laddr"'],
    ['[fastsync]\nversion = "v0"', 'fastsync', 'unknown key "fastsync"'],
    ['[consensus]\ntimeout_comit = "1s"', 'consensus.timeout_comit', 'unknown key "timeout_comit" in [consensus]'],
    ['rpc = 5', 'rpc', 'expected a [rpc] table'],
  ])('rejects unknown keys / sections: %j', (toml, key, msg) => {
    const e = errorOf(() => parse(toml));
    expect(e.file).toBe('test.toml');
    expect(e.key).toBe(key);
    expect(e.message).toContain(msg);
    expect(e.message).toContain('test.toml');
  });

  it.each([
    ['moniker = 5', 'moniker', 'expected a string, got the integer 5'],
    ['moniker = ""', 'moniker', 'must not be empty'],
    ['log_level = "loud"', 'log_level', 'bad log level'],
    ['log_format = "xml"', 'log_format', 'expected one of "plain", "json"'],
    ['db_backend = "rocksdb"', 'db_backend', '"classic-level"'],
    ['[rpc]\nmax_body_bytes = "1000"', 'rpc.max_body_bytes', 'expected an integer ≥ 1, got string "1000"'],
    ['[rpc]\nmax_body_bytes = 0', 'rpc.max_body_bytes', 'out of range'],
    ['[rpc]\nmax_body_bytes = 1.5', 'rpc.max_body_bytes', 'got the number 1.5'],
    ['[rpc]\nmax_body_bytes = 99999999999999999999', 'rpc.max_body_bytes', 'out of range'],
    ['[rpc]\nmax_body_bytes = 9223372036854775807', 'rpc.max_body_bytes', 'out of range'],
    ['[rpc]\nunsafe = "yes"', 'rpc.unsafe', 'expected true or false'],
    ['[rpc]\nladdr = "127.0.0.1:26657"', 'rpc.laddr', 'expected tcp://host:port'],
    ['[rpc]\nladdr = "tcp://127.0.0.1:70000"', 'rpc.laddr', 'bad port'],
    ['[rpc]\ncors_allowed_origins = "*"', 'rpc.cors_allowed_origins', 'expected an array of strings'],
    ['[rpc]\ncors_allowed_origins = [1]', 'rpc.cors_allowed_origins', 'expected an array of strings'],
    ['[consensus]\ntimeout_commit = 1000', 'consensus.timeout_commit', 'a duration string'],
    ['[consensus]\ntimeout_commit = "1 s"', 'consensus.timeout_commit', 'invalid duration "1 s"'],
    ['[consensus]\ntimeout_propose = "0s"', 'consensus.timeout_propose', 'must be at least 1ms'],
    ['[p2p]\nladdr = "/dns4/example.com/tcp/1"', 'p2p.laddr', 'needs an IP'],
    ['[p2p]\nladdr = "0.0.0.0:26656"', 'p2p.laddr', 'expected a multiaddr'],
    ['[p2p]\npersistent_peers = "/ip4/1.2.3.4/tcp/26656"', 'p2p.persistent_peers', 'lacks /p2p/<peer id>'],
    ['[p2p]\npersistent_peers = "/ip4/1.2.3.4/tcp/26656/p2p/notapeerid"', 'p2p.persistent_peers', 'bad peer id'],
    ['[p2p]\nseeds = "0123456789abcdef0123456789abcdef01234567@1.2.3.4:26656"', 'p2p.seeds', "CometBFT's id@host:port form"],
    ['[p2p]\nmax_num_inbound_peers = -1', 'p2p.max_num_inbound_peers', 'out of range'],
    ['[statesync]\ntrust_hash = "abcd"', 'statesync.trust_hash', '64 hex characters'],
    ['[statesync]\nrpc_servers = "localhost:26657"', 'statesync.rpc_servers', 'http(s)://'],
    ['[statesync]\nchunk_fetchers = 0', 'statesync.chunk_fetchers', 'out of range'],
    ['[blocksync]\nversion = "v2"', 'blocksync.version', 'expected one of "v0"'],
    ['[tx_index]\nindexer = "psql"', 'tx_index.indexer', 'expected one of "kv", "null"'],
    ['[instrumentation]\nprometheus_listen_addr = "26660"', 'instrumentation.prometheus_listen_addr', 'expected host:port'],
    ['[instrumentation]\nnamespace = "1x"', 'instrumentation.namespace', 'Prometheus name'],
  ])('rejects bad values: %j', (toml, key, msg) => {
    const e = errorOf(() => parse(toml));
    expect(e.key).toBe(key);
    expect(e.message).toContain(msg);
  });

  it('reports TOML syntax errors with line and column', () => {
    const e = errorOf(() => parse('moniker = "x"\n[rpc\n'));
    expect(e.message).toMatch(/test\.toml: invalid TOML at line 2, column \d+/);
  });
});

// ---- overrides ------------------------------------------------------------------------------

/** A valid non-default flag value for every key, and the typed value it must produce. */
function sample(f: FieldInfo): { flag: string; value: FieldValue } {
  const special: Record<string, { flag: string; value: FieldValue }> = {
    moniker: { flag: 'node-x', value: 'node-x' },
    log_level: { flag: 'p2p:debug,*:warn', value: 'p2p:debug,*:warn' },
    'rpc.laddr': { flag: 'tcp://127.0.0.1:36657', value: 'tcp://127.0.0.1:36657' },
    'rpc.cors_allowed_origins': { flag: 'https://a.example, https://b.example', value: ['https://a.example', 'https://b.example'] },
    'p2p.laddr': { flag: 'tcp://127.0.0.1:36656', value: '/ip4/127.0.0.1/tcp/36656' },
    'p2p.external_address': { flag: '/dns4/node.example.com/tcp/26656', value: '/dns4/node.example.com/tcp/26656' },
    'p2p.seeds': { flag: `/ip4/10.0.0.9/tcp/26656/p2p/${PEER}`, value: [`/ip4/10.0.0.9/tcp/26656/p2p/${PEER}`] },
    'p2p.persistent_peers': {
      flag: `/ip4/10.0.0.1/tcp/26656/p2p/${PEER},/dns4/b.example.com/tcp/26656/p2p/${PEER2}`,
      value: [`/ip4/10.0.0.1/tcp/26656/p2p/${PEER}`, `/dns4/b.example.com/tcp/26656/p2p/${PEER2}`],
    },
    'p2p.private_peer_ids': { flag: `${PEER},${PEER2}`, value: [PEER, PEER2] },
    'p2p.unconditional_peer_ids': { flag: PEER, value: [PEER] },
    'statesync.rpc_servers': { flag: 'http://a:26657,https://b.example:443', value: ['http://a:26657', 'https://b.example:443'] },
    'statesync.trust_hash': { flag: 'AB'.repeat(32), value: 'AB'.repeat(32) },
    'instrumentation.prometheus_listen_addr': { flag: '127.0.0.1:9000', value: '127.0.0.1:9000' },
    'instrumentation.namespace': { flag: 'mychain', value: 'mychain' },
    db_backend: { flag: 'classic-level', value: 'classic-level' },
    'blocksync.version': { flag: 'v0', value: 'v0' },
  };
  const s = special[f.path];
  if (s) return s;
  const d = getField(defaultConfig(), f);
  const spec = f.spec;
  switch (spec.kind) {
    case 'bool':
      return { flag: String(!d), value: !d };
    case 'int': {
      const n = (d as number) + 7;
      return { flag: String(n), value: n };
    }
    case 'duration': {
      const ms = (d as number) + 1000;
      return { flag: formatDuration(ms), value: ms };
    }
    case 'enum': {
      const other = spec.values.find((v) => v !== d) ?? d;
      return { flag: other as string, value: other as string };
    }
    case 'string':
      return { flag: `${d as string}-changed`, value: `${d as string}-changed` };
    case 'list':
      throw new Error(`no sample for list ${f.path}`);
  }
}

describe('command-line overrides', () => {
  it('has one override key per config key, named --section.key', () => {
    expect(OVERRIDE_KEYS).toContain('moniker');
    expect(OVERRIDE_KEYS).toContain('rpc.laddr');
    expect(OVERRIDE_KEYS).toContain('consensus.timeout_commit');
    expect(OVERRIDE_KEYS).toContain('tx_index.indexer');
    expect(new Set(OVERRIDE_KEYS).size).toBe(FIELDS.length);
  });

  it.each(FIELDS.map((f) => [f.path, f] as const))('--%s is applied with its type', (_path, f) => {
    const { flag, value } = sample(f);
    const c = applyOverrides(defaultConfig(), { [f.path]: flag });
    expect(getField(c, f)).toEqual(value);
    // Untouched keys keep their defaults.
    const others = FIELDS.filter((g) => g !== f && g.path !== 'moniker');
    for (const g of others) expect(getField(c, g)).toEqual(getField(defaultConfig(), g));
  });

  it('coerces booleans, integers, durations and lists', () => {
    const c = applyOverrides(defaultConfig(), {
      'rpc.unsafe': true, // a bare flag
      'p2p.pex': 'false',
      'mempool.recheck': '0',
      'mempool.broadcast': 'no',
      'mempool.size': '1_000',
      'consensus.timeout_commit': '1m30s',
      'rpc.cors_allowed_origins': '',
    });
    expect(c.rpc.unsafe).toBe(true);
    expect(c.p2p.pex).toBe(false);
    expect(c.mempool.recheck).toBe(false);
    expect(c.mempool.broadcast).toBe(false);
    expect(c.mempool.size).toBe(1000);
    expect(c.consensus.timeoutCommitMs).toBe(90_000);
    expect(c.rpc.corsAllowedOrigins).toEqual([]);
  });

  it('accepts the key with or without leading dashes, and dashes for underscores', () => {
    const c = applyOverrides(defaultConfig(), { '--rpc.max-body-bytes': '5', 'log-level': 'debug' });
    expect(c.rpc.maxBodyBytes).toBe(5);
    expect(c.logLevel).toBe('debug');
  });

  it('does not modify its input', () => {
    const d = defaultConfig();
    applyOverrides(d, { 'rpc.laddr': 'tcp://1.2.3.4:5', 'rpc.cors_allowed_origins': 'x' });
    expect(d).toEqual(defaultConfig());
  });

  it.each([
    ['rpc.ladr', 'x', 'unknown config key --rpc.ladr (did you mean "rpc.laddr"?)'],
    ['rcp.laddr', 'x', 'did you mean "rpc.laddr"'],
    ['nonsense', 'x', 'unknown config key --nonsense'],
    ['rpc', 'x', 'unknown config key --rpc'],
    ['mempool.size', 'abc', '--mempool.size: expected an integer ≥ 1, got "abc"'],
    ['mempool.size', '1.5', 'expected an integer'],
    ['mempool.size', '0', 'out of range'],
    ['mempool.size', true, '--mempool.size: needs a value'],
    ['rpc.unsafe', 'maybe', '--rpc.unsafe: expected true or false, got "maybe"'],
    ['consensus.timeout_commit', '10', 'missing unit'],
    ['consensus.timeout_commit', '-1s', 'must not be negative'],
    ['log_format', 'xml', 'expected one of "plain", "json"'],
    ['p2p.persistent_peers', '1.2.3.4:26656', 'expected a multiaddr'],
  ])('rejects --%s %j', (key, value, msg) => {
    const e = errorOf(() => applyOverrides(defaultConfig(), { [key]: value }));
    expect(e.message).toContain(msg);
  });

  it('has precedence over config.toml, which has precedence over defaults', () => {
    const fromFile = parse('moniker = "file"\n[rpc]\nladdr = "tcp://127.0.0.1:1111"\nmax_body_bytes = 77\n');
    const c = applyOverrides(fromFile, { 'rpc.laddr': 'tcp://127.0.0.1:2222' });
    expect(c.rpc.laddr).toBe('tcp://127.0.0.1:2222'); // flag beats file
    expect(c.rpc.maxBodyBytes).toBe(77); // file beats default
    expect(c.moniker).toBe('file');
    expect(c.rpc.maxOpenConnections).toBe(900); // default
  });
});

describe('cross-key validation', () => {
  it('max_tx_bytes must not exceed max_txs_bytes', () => {
    const c = applyOverrides(defaultConfig(), { 'mempool.max_tx_bytes': '2000', 'mempool.max_txs_bytes': '1000' });
    const e = errorOf(() => validateConfig(c, 'x.toml'));
    expect(e.key).toBe('mempool.max_tx_bytes');
    expect(e.message).toContain('must not exceed mempool.max_txs_bytes (1000)');
  });

  it('state sync needs a trusted height and hash', () => {
    const on = applyOverrides(defaultConfig(), { 'statesync.enable': 'true' });
    expect(errorOf(() => validateConfig(on)).key).toBe('statesync.trust_height');
    const withHeight = applyOverrides(on, { 'statesync.trust_height': '100' });
    expect(errorOf(() => validateConfig(withHeight)).key).toBe('statesync.trust_hash');
    expect(() => validateConfig(applyOverrides(withHeight, { 'statesync.trust_hash': 'ab'.repeat(32) }))).not.toThrow();
  });

  it('seed mode needs peer exchange', () => {
    const seed = applyOverrides(defaultConfig(), { 'p2p.seed_mode': 'true' });
    expect(() => validateConfig(seed)).not.toThrow();
    const e = errorOf(() => validateConfig(applyOverrides(seed, { 'p2p.pex': 'false' })));
    expect(e.key).toBe('p2p.seed_mode');
    expect(e.message).toContain('set p2p.pex = true');
  });

  it('listeners must not share a port', () => {
    const c = applyOverrides(defaultConfig(), { 'rpc.laddr': 'tcp://127.0.0.1:26656' });
    expect(errorOf(() => validateConfig(c)).message).toContain('also used by rpc.laddr');
    const prom = applyOverrides(defaultConfig(), { 'instrumentation.prometheus': 'true', 'instrumentation.prometheus_listen_addr': ':26657' });
    expect(errorOf(() => validateConfig(prom)).key).toBe('instrumentation.prometheus_listen_addr');
    // Port 0 asks the OS for a free port: several listeners may use it.
    const ephemeral = applyOverrides(defaultConfig(), { 'rpc.laddr': 'tcp://127.0.0.1:0', 'p2p.laddr': '/ip4/127.0.0.1/tcp/0', 'instrumentation.prometheus': 'true', 'instrumentation.prometheus_listen_addr': '127.0.0.1:0' });
    expect(() => validateConfig(ephemeral)).not.toThrow();
    // Different IPs may share a port.
    const ok = applyOverrides(defaultConfig(), { 'p2p.laddr': '/ip4/127.0.0.2/tcp/26657' });
    expect(() => validateConfig(ok)).not.toThrow();
  });
});

describe('keys accepted but not acted on', () => {
  it('names each one set away from its default, and none in the default config', () => {
    expect(ignoredSettings(defaultConfig())).toEqual([]);
    const set = applyOverrides(defaultConfig(), {
      'statesync.enable': 'true',
      'statesync.trust_height': '5',
      'statesync.trust_hash': 'AB'.repeat(32),
      // acted on (responses discarded; the engine's look-back; the connections' rate limits), so not named
      'storage.discard_abci_responses': 'true',
      'consensus.double_sign_check_height': '10',
      'p2p.send_rate': '1000',
      'p2p.recv_rate': '1000',
    });
    const named = ignoredSettings(set).map((s) => s.split(' = ')[0]);
    expect(named).toEqual(['statesync.enable']);
    expect(ignoredSettings(set)[0]).toContain('state sync is not implemented');
  });
});

describe("a config.toml written for CometBFT 0.38", () => {
  const cometbft = readFileSync(new URL('./cometbft-0.38-config.toml', import.meta.url), 'utf8');

  it('loads, every key of it at CometBFT\'s defaults, with nothing to warn about', () => {
    const c = parse(cometbft);
    expect(c.dbBackend).toBe('goleveldb');
    expect(c.statesync.chunkFetchers).toBe(4); // CometBFT quotes it: "4"
    expect(c.consensus.timeoutCommitMs).toBe(1000);
    expect(c.cometbftOnly).toBeUndefined();
    expect(ignoredSettings(c)).toEqual([]);
    expect(() => validateConfig(c)).not.toThrow();
  });

  it("names the CometBFT-only keys set away from CometBFT's defaults in the warning at start", () => {
    const changed = cometbft
      .replace('allow_duplicate_ip = false', 'allow_duplicate_ip = true')
      .replace('type = "flood"', 'type = "nop"')
      .replace('cors_allowed_methods = ["HEAD", "GET", "POST", ]', 'cors_allowed_methods = ["GET"]')
      .replace('max_open_connections = 3', 'max_open_connections = 7');
    const named = ignoredSettings(parse(changed));
    expect(named).toEqual([
      'rpc.cors_allowed_methods = ["GET"] (a CometBFT key Tally does not use)',
      'p2p.allow_duplicate_ip = true (a CometBFT key Tally does not use)',
      'mempool.type = "nop" (a CometBFT key Tally does not use)',
      'instrumentation.max_open_connections = 7 (a CometBFT key Tally does not use)',
    ]);
  });

  it('refuses a remote signer address (the node would sign with its key file instead)', () => {
    const e = errorOf(() => parse(cometbft.replace('priv_validator_laddr = ""', 'priv_validator_laddr = "tcp://127.0.0.1:26659"')));
    expect(e.key).toBe('priv_validator_laddr');
    expect(e.message).toContain('no remote signer');
  });

  it('peer id lists take libp2p peer ids, and name a CometBFT hex id as such', () => {
    const c = parse(`[p2p]\nprivate_peer_ids = "${PEER}"\nunconditional_peer_ids = ""`);
    expect(c.p2p.privatePeerIds).toEqual([PEER]);
    expect(c.p2p.unconditionalPeerIds).toEqual([]);
    const e = errorOf(() => parse('[p2p]\nunconditional_peer_ids = "f4a9e8f2d3c4b5a697887766554433221100ffee"'));
    expect(e.key).toBe('p2p.unconditional_peer_ids');
    expect(e.message).toContain('is a CometBFT node id');
  });

  it('still rejects a key neither Tally nor CometBFT has, and a quoted number where CometBFT writes none', () => {
    const typo = errorOf(() => parse('[p2p]\nprivate_peer_idz = ""'));
    expect(typo.key).toBe('p2p.private_peer_idz');
    expect(typo.message).toContain('unknown key');
    expect(errorOf(() => parse('[statesync]\nchunk_fetchers = "four"')).key).toBe('statesync.chunk_fetchers');
    expect(errorOf(() => parse('[mempool]\nsize = "5000"')).key).toBe('mempool.size');
  });
});
