// The seam between the CLI and the node: `tally start` loads and validates everything, then
// runs the node until SIGINT/SIGTERM (resolves) or a fatal error (rejects with it).
import type { Config, LoadedHome, Logger } from '../config/index.js';
import { TallyNode } from '../node/index.js';

export type StartNode = (config: Config, home: LoadedHome, logger: Logger) => Promise<void>;

export const startNode: StartNode = async (config, home, logger) => {
  const node = await TallyNode.start(config, home, logger);
  const rpc = node.rpcAddress();
  const metrics = node.metricsAddress();
  logger.info(
    { rpc: rpc ? `tcp://${rpc.host}:${rpc.port}` : undefined, metrics: metrics ? `http://${metrics.host}:${metrics.port}/metrics` : undefined, height: node.sync?.state?.lastBlockHeight, blockSync: node.sync?.syncing },
    'node started',
  );
  await new Promise<void>((resolve, reject) => {
    let stopping = false;
    const stop = (err?: Error): void => {
      if (stopping) return;
      stopping = true;
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      void node.stop().then(
        () => (err ? reject(err) : resolve()),
        (e: unknown) => reject(err ?? e),
      );
    };
    const onSignal = (signal: NodeJS.Signals): void => {
      logger.info({ signal }, 'stopping');
      stop();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    node.onFatal((e) => stop(e));
  });
};
