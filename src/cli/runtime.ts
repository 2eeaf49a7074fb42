// The seam between the CLI and the node. `tally start` loads and validates everything, then
// calls startNode(); the node assembly (stores, consensus, p2p, RPC — src/node/) replaces the body
// below with its own start, which should resolve only when the node has stopped (after SIGINT or
// SIGTERM) and reject with a one-line error when it cannot run.
import type { Config, LoadedHome, Logger } from '../config/index.js';
import { NotImplementedError } from './errors.js';

export type StartNode = (config: Config, home: LoadedHome, logger: Logger) => Promise<void>;

export const startNode: StartNode = async (_config, home) => {
  throw new NotImplementedError(
    `the node runtime is not implemented yet (validated home ${home.dir}: chain ${home.genesis.chainId}, node ${home.nodeKey.id})`,
  );
};
