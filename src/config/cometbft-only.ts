// CometBFT 0.38 config.toml keys that Tally has no use for, with CometBFT's defaults. A config
// written for CometBFT then loads: such a key at its default is accepted silently, one set away
// from it is accepted and named in the warning at start (ignoredSettings), and a key neither
// Tally's nor CometBFT's is still an error (a typo must not be silently ignored). Keys whose
// silent neglect could do harm are refused when set (REFUSED).

/** "section.key" (or "key" at the top level) → CometBFT's default, as TOML parses it. */
export const COMETBFT_ONLY_KEYS: ReadonlyMap<string, unknown> = new Map<string, unknown>([
  ['priv_validator_laddr', ''],
  ['abci', 'socket'],
  ['filter_peers', false],
  ['rpc.cors_allowed_methods', ['HEAD', 'GET', 'POST']],
  ['rpc.cors_allowed_headers', ['Origin', 'Accept', 'Content-Type', 'X-Requested-With', 'X-Server-Time']],
  ['rpc.grpc_laddr', ''],
  ['rpc.grpc_max_open_connections', 900],
  ['rpc.experimental_subscription_buffer_size', 200],
  ['rpc.experimental_websocket_write_buffer_size', 200],
  ['rpc.experimental_close_on_slow_client', false],
  ['rpc.tls_cert_file', ''],
  ['rpc.tls_key_file', ''],
  ['rpc.pprof_laddr', ''],
  ['p2p.addr_book_strict', true],
  ['p2p.persistent_peers_max_dial_period', '0s'],
  ['p2p.flush_throttle_timeout', '100ms'],
  ['p2p.max_packet_msg_payload_size', 1024],
  ['p2p.allow_duplicate_ip', false],
  ['mempool.type', 'flood'],
  ['mempool.recheck_timeout', '1s'],
  ['mempool.wal_dir', ''],
  ['mempool.max_batch_bytes', 0],
  ['mempool.experimental_max_gossip_connections_to_persistent_peers', 0],
  ['mempool.experimental_max_gossip_connections_to_non_persistent_peers', 0],
  ['statesync.temp_dir', ''],
  ['consensus.skip_timeout_commit', false],
  ['consensus.peer_query_maj23_sleep_duration', '2s'],
  ['tx_index.psql-conn', ''],
  ['instrumentation.max_open_connections', 3],
]);

/** The version CometBFT writes at the top of its config.toml: informational, any value. */
export const COMETBFT_VERSION_KEY = 'version';

/** Keys refused when set away from CometBFT's default, and why. */
export const REFUSED: ReadonlyMap<string, string> = new Map([
  ['priv_validator_laddr', 'Tally has no remote signer: it would sign with priv_validator_key_file instead, which a remote-signer setup does not mean'],
]);

/** Whether a parsed TOML value equals CometBFT's default (scalars, or arrays of scalars). */
export function isCometbftDefault(path: string, value: unknown): boolean {
  const d = COMETBFT_ONLY_KEYS.get(path);
  const norm = (v: unknown): unknown => (typeof v === 'bigint' ? Number(v) : v);
  if (Array.isArray(d)) return Array.isArray(value) && value.length === d.length && value.every((v, i) => norm(v) === d[i]);
  return norm(value) === d;
}
