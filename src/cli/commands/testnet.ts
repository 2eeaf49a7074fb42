import { mkdir, readdir } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { timeFromDate } from '../../codec/index.js';
import {
  DEFAULT_VALIDATOR_POWER,
  NodeKey,
  PrivValidatorKey,
  applyOverrides,
  cloneConfig,
  createLogger,
  defaultConfig,
  forModule,
  randomChainId,
  validateConfig,
  writeHome,
  type Config,
} from '../../config/index.js';
import { writeFileAtomic } from '../../fsutil/index.js';
import { GenesisError, makeGenesis, type GenesisDoc } from '../../types/genesis.js';
import { CliError } from '../errors.js';
import { addConfigOverrideOptions, collectOverrides } from '../options.js';

/** Keys testnet sets per node; a flag for them would be overwritten, so it is refused instead. */
const PER_NODE_KEYS = ['moniker', 'p2p.laddr', 'rpc.laddr', 'p2p.persistent_peers', 'instrumentation.prometheus_listen_addr'];

export interface TestnetNode {
  readonly name: string;
  readonly home: string;
  readonly rpc: string;
  readonly p2p: string;
  readonly validator: boolean;
}

export interface TestnetManifest {
  readonly chain_id: string;
  readonly nodes: readonly TestnetNode[];
}

function positiveInt(flag: string, raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < min || Number(raw) > max) throw new CliError(`${flag}: expected an integer in [${min}, ${max}], got ${JSON.stringify(raw)}`);
  return Number(raw);
}

function addIPv4(ip: string, n: number): string {
  const v = ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0) + n;
  if (v > 0xffffffff) throw new CliError(`--starting-ip: ${ip} + ${n} overflows IPv4`);
  return [24, 16, 8, 0].map((s) => Math.floor(v / 2 ** s) % 256).join('.');
}

async function ensureEmptyDir(dir: string): Promise<void> {
  let entries: string[] = [];
  try {
    entries = await readdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new CliError(`--output: ${dir} is not a directory`);
    if (code !== 'ENOENT') throw new CliError(`--output: cannot read ${dir}: ${(e as Error).message}`);
  }
  if (entries.length > 0) throw new CliError(`--output: ${dir} is not empty (${entries.length} entries); remove it or choose another directory`);
  await mkdir(dir, { recursive: true, mode: 0o755 });
}

export function register(program: Command): void {
  const cmd = program
    .command('testnet')
    .description('Create the homes of a local testnet: <output>/node0 … node{N-1} sharing one genesis, each peered with all the others, plus <output>/testnet.json')
    .requiredOption('--output <dir>', 'directory to create the node homes in (must be empty or absent)')
    .option('--validators <n>', 'number of validators (power 10 each)', '4')
    .option('--non-validators <n>', 'number of extra full nodes (not in the genesis validator set)', '0')
    .option('--chain-id <id>', 'chain id (default: "tally-" and 6 random hex characters)')
    .option('--base-port <port>', 'node i listens on p2p port P+10i, RPC port P+10i+1 and Prometheus port P+10i+2', '26600')
    .option('--starting-ip <ip>', 'IPv4 address of node0; node i gets this address + i (default: every node on 127.0.0.1)');
  addConfigOverrideOptions(cmd);
  cmd.action(async (opts: { output: string; validators: string; nonValidators: string; chainId?: string; basePort: string; startingIp?: string }, self: Command) => {
    const validators = positiveInt('--validators', opts.validators, 1, 1000);
    const nonValidators = positiveInt('--non-validators', opts.nonValidators, 0, 1000);
    const total = validators + nonValidators;
    const basePort = positiveInt('--base-port', opts.basePort, 1, 65535 - 10 * (total - 1) - 2);
    if (opts.startingIp !== undefined && isIP(opts.startingIp) !== 4) throw new CliError(`--starting-ip: expected an IPv4 address, got ${JSON.stringify(opts.startingIp)}`);
    const ipOf = (i: number): string => (opts.startingIp === undefined ? '127.0.0.1' : addIPv4(opts.startingIp, i));
    const chainId = opts.chainId ?? randomChainId();

    const overrides = collectOverrides(self);
    for (const k of PER_NODE_KEYS) {
      if (k in overrides) throw new CliError(`--${k} cannot be set for a testnet: every node gets its own (see --base-port and --starting-ip)`);
    }
    const base = applyOverrides(defaultConfig(), overrides);

    const nodes = Array.from({ length: total }, (_, i) => {
      const ip = ipOf(i);
      const port = basePort + 10 * i;
      const nodeKey = NodeKey.generate();
      return {
        i,
        name: `node${i}`,
        ip,
        port,
        nodeKey,
        privValidatorKey: PrivValidatorKey.generate(),
        p2p: `/ip4/${ip}/tcp/${port}/p2p/${nodeKey.id}`,
        validator: i < validators,
      };
    });

    let genesis: GenesisDoc;
    try {
      genesis = makeGenesis({
        chainId,
        genesisTime: timeFromDate(new Date()),
        validators: nodes.filter((n) => n.validator).map((n) => ({ pubKey: n.privValidatorKey.pubKey.bytes, power: DEFAULT_VALIDATOR_POWER, name: n.name })),
      });
    } catch (e) {
      if (e instanceof GenesisError) throw new CliError(`--chain-id: ${e.detail}`);
      throw e;
    }

    const configs: Config[] = nodes.map((n) => {
      const c = cloneConfig(base);
      c.moniker = n.name;
      c.p2p.laddr = `/ip4/${n.ip}/tcp/${n.port}`;
      c.rpc.laddr = `tcp://${n.ip}:${n.port + 1}`;
      c.instrumentation.prometheusListenAddr = `${n.ip}:${n.port + 2}`;
      c.p2p.persistentPeers = nodes.filter((m) => m !== n).map((m) => m.p2p);
      validateConfig(c, n.name);
      return c;
    });

    const output = resolve(opts.output);
    await ensureEmptyDir(output);
    const homes = await Promise.all(
      nodes.map((n) => writeHome(join(output, n.name), { config: configs[n.i]!, nodeKey: n.nodeKey, privValidatorKey: n.privValidatorKey, genesis })),
    );
    const manifest: TestnetManifest = {
      chain_id: chainId,
      nodes: nodes.map((n) => ({ name: n.name, home: homes[n.i]!.home, rpc: `http://${n.ip}:${n.port + 1}`, p2p: n.p2p, validator: n.validator })),
    };
    const manifestPath = join(output, 'testnet.json');
    await writeFileAtomic(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`, 0o644);
    const log = forModule(createLogger(base), 'main');
    log.info({ chain_id: chainId, validators, non_validators: nonValidators, dir: output }, `Successfully initialized ${total} node directories`);
    log.info({ path: manifestPath }, 'Wrote testnet manifest');
  });
}
