// Regenerates docs/rpc.md from a live node: every endpoint with an example request and the
// response a real single validator gave (long arrays and strings shortened). Run with
//   npx tsc -p tsconfig.bench.json && node dist-bench/bench/rpc-docs.js [output path]
import '../src/polyfill/index.js';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import type { Json, JsonObject } from '../src/codec/index.js';
import { post, startBenchNode } from './rpc-node.js';

const OUT = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'rpc.md');

/** Long arrays keep their first two items, long strings their start: the doc shows shapes. */
function shorten(v: Json, depth = 0): Json {
  if (typeof v === 'string') return v.length > 100 ? `${v.slice(0, 96)}…` : v;
  if (Array.isArray(v)) {
    const items = v.slice(0, 2).map((x) => shorten(x, depth + 1));
    return v.length > 2 ? [...items, `… ${v.length - 2} more`] : items;
  }
  if (v !== null && typeof v === 'object') {
    const out: JsonObject = {};
    for (const [k, x] of Object.entries(v)) out[k] = shorten(x, depth + 1);
    return out;
  }
  return v;
}

const node = await startBenchNode(['--consensus.timeout_commit', '300ms', '--rpc.unsafe', '--moniker', 'docs-node']);
let nextId = 1;
async function rpc(method: string, params: JsonObject = {}): Promise<{ request: JsonObject; response: JsonObject }> {
  const request: JsonObject = { jsonrpc: '2.0', id: nextId++, method, params };
  const r = await post(node.port, JSON.stringify(request));
  return { request, response: JSON.parse(r.text) as JsonObject };
}
const waitHeight = async (h: number): Promise<void> => {
  for (;;) {
    const s = (await rpc('status')).response.result as JsonObject;
    if (Number((s.sync_info as JsonObject).latest_block_height) >= h) return;
    await new Promise((r) => setTimeout(r, 100));
  }
};

interface Endpoint {
  readonly method: string;
  readonly params: JsonObject;
  readonly uri: string;
  readonly about: string;
}

const sections: string[] = [];
try {
  await waitHeight(3);
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  const committed = (await rpc('broadcast_tx_commit', { tx: b64('name=satoshi') })).response.result as JsonObject;
  const txHeight = String(committed.height);
  const txHashHex = String(committed.hash);
  await waitHeight(Number(txHeight) + 1);
  const blockHash = String((((await rpc('block', { height: txHeight })).response.result as JsonObject).block_id as JsonObject).hash);

  // websocket: a subscription and the first NewBlock and Tx events it gets
  const ws = new WebSocket(`ws://127.0.0.1:${node.port}/websocket`);
  await new Promise((r) => ws.once('open', r));
  const wsMessages: JsonObject[] = [];
  ws.on('message', (d) => wsMessages.push(JSON.parse(String(d)) as JsonObject));
  ws.send(JSON.stringify({ jsonrpc: '2.0', id: 'blocks', method: 'subscribe', params: { query: "tm.event='NewBlock'" } }));
  ws.send(JSON.stringify({ jsonrpc: '2.0', id: 'txs', method: 'subscribe', params: { query: "tm.event='Tx' AND app.key='color'" } }));
  await new Promise((r) => setTimeout(r, 300));
  await rpc('broadcast_tx_sync', { tx: b64('color=blue') });
  for (let i = 0; i < 100 && !wsMessages.some((m) => m.id === 'txs' && (m.result as JsonObject | undefined)?.data); i++) await new Promise((r) => setTimeout(r, 100));
  ws.close();

  const endpoints: Endpoint[] = [
    { method: 'health', params: {}, uri: '/health', about: 'Empty result while the node runs.' },
    { method: 'status', params: {}, uri: '/status', about: "Node info (CometBFT's hex node id; the libp2p peer id and Tally's version in `other`), sync info (`latest_app_hash` is the app hash after the latest block), this node's validator." },
    { method: 'net_info', params: {}, uri: '/net_info', about: 'Listening state and connected peers (a node without p2p has none).' },
    { method: 'blockchain', params: { minHeight: '1', maxHeight: '2' }, uri: '/blockchain?minHeight=1&maxHeight=2', about: 'Block metas, newest first, at most 20; 0 or absent bounds mean the base and the tip.' },
    { method: 'genesis', params: {}, uri: '/genesis', about: 'The genesis document (an error for genesis files above 16 MiB: use genesis_chunked).' },
    { method: 'genesis_chunked', params: { chunk: '0' }, uri: '/genesis_chunked?chunk=0', about: 'The genesis JSON, base64, in 16 MiB chunks.' },
    { method: 'block', params: { height: txHeight }, uri: `/block?height=${txHeight}`, about: 'A block and its id; the latest when `height` is absent.' },
    { method: 'block_by_hash', params: { hash: blockHash }, uri: `/block_by_hash?hash=0x${blockHash}`, about: 'A block by its hash (hex or base64); `block: null` when unknown.' },
    { method: 'header', params: { height: txHeight }, uri: `/header?height=${txHeight}`, about: 'A header (from the block meta, without loading the block).' },
    { method: 'header_by_hash', params: { hash: blockHash }, uri: `/header_by_hash?hash=0x${blockHash}`, about: 'A header by block hash; `header: null` when unknown.' },
    { method: 'commit', params: { height: txHeight }, uri: `/commit?height=${txHeight}`, about: 'Signed header; `canonical` is false for the latest height (the commit this node saw).' },
    { method: 'block_results', params: { height: txHeight }, uri: `/block_results?height=${txHeight}`, about: "FinalizeBlock's results for a height: tx results, block events, validator and consensus-param updates, app hash." },
    { method: 'validators', params: { height: txHeight, page: '1', per_page: '30' }, uri: `/validators?height=${txHeight}&page=1&per_page=30`, about: 'The validator set of a height (default: the height being decided), paged: 30 per page by default, at most 100.' },
    { method: 'consensus_params', params: { height: txHeight }, uri: `/consensus_params?height=${txHeight}`, about: 'Consensus parameters in force at a height.' },
    { method: 'consensus_state', params: {}, uri: '/consensus_state', about: 'The round in progress: height/round/step (step numbered as CometBFT: 1 NewHeight … 8 Commit), votes per round.' },
    { method: 'dump_consensus_state', params: {}, uri: '/dump_consensus_state', about: 'The round state in more detail (validators, proposal, locked/valid round and block id, votes) and peers. Tally reports block ids where CometBFT embeds whole blocks.' },
    { method: 'tx', params: { hash: txHashHex, prove: true }, uri: `/tx?hash=0x${txHashHex}&prove=true`, about: 'A committed tx by hash (hex or base64); `prove` adds its merkle proof against the block\'s data_hash.' },
    { method: 'tx_search', params: { query: "app.key='name'", prove: false, page: '1', per_page: '30', order_by: 'asc' }, uri: '/tx_search?query="app.key=\'name\'"&order_by="asc"', about: 'Txs matching a query (`=`, `<`, `<=`, `>`, `>=`, `CONTAINS`, `EXISTS`, `AND`; `tx.hash`, `tx.height`, event attributes), paged, ordered by height (asc by default).' },
    { method: 'block_search', params: { query: `block.height <= ${txHeight}`, page: '1', per_page: '2' }, uri: `/block_search?query="block.height<=${txHeight}"&per_page=2`, about: 'Blocks whose height and FinalizeBlock events match a query; newest first by default, as CometBFT 0.38.' },
    { method: 'check_tx', params: { tx: b64('probe=1') }, uri: '/check_tx?tx="probe=1"', about: "The application's CheckTx verdict, without adding the tx to the mempool." },
    { method: 'broadcast_tx_async', params: { tx: b64('a=1') }, uri: '/broadcast_tx_async?tx="a=1"', about: 'Hands the tx to the mempool and returns its hash at once.' },
    { method: 'broadcast_tx_sync', params: { tx: b64('b=2') }, uri: '/broadcast_tx_sync?tx="b=2"', about: 'Returns CheckTx\'s verdict; the tx is then in the mempool.' },
    { method: 'broadcast_tx_commit', params: { tx: b64('c=3') }, uri: '/broadcast_tx_commit?tx="c=3"', about: 'Waits until the tx is committed (rpc.timeout_broadcast_tx_commit, default 10 s) and returns CheckTx and the block\'s result.' },
    { method: 'unconfirmed_txs', params: { limit: '30' }, uri: '/unconfirmed_txs?limit=30', about: 'Txs waiting in the mempool (at most `limit`, default 30, at most 100).' },
    { method: 'num_unconfirmed_txs', params: {}, uri: '/num_unconfirmed_txs', about: 'Mempool size in txs and bytes.' },
    { method: 'abci_info', params: {}, uri: '/abci_info', about: "The application's Info." },
    { method: 'abci_query', params: { path: '/store', data: Buffer.from('name').toString('hex'), height: '0', prove: false }, uri: '/abci_query?path="/store"&data="name"', about: 'An application query; `data` is hex in JSON (URI: a quoted string or 0x-hex); the answer\'s `height` is the state it was read from.' },
    { method: 'broadcast_evidence', params: { evidence: { type: 'tendermint/DuplicateVoteEvidence', value: {} } }, uri: '/broadcast_evidence?evidence={…}', about: 'Duplicate-vote evidence in CometBFT\'s JSON form; checked (votes, signatures, powers) and handed to the evidence pool. The single-node build has no pool yet, so valid evidence is refused with that reason.' },
    { method: 'unsafe_flush_mempool', params: {}, uri: '/unsafe_flush_mempool', about: 'Unsafe (rpc.unsafe = true): empties the mempool.' },
    { method: 'dial_seeds', params: { seeds: ['/ip4/127.0.0.1/tcp/26656/p2p/12D3KooW…'] }, uri: '/dial_seeds?seeds=["…"]', about: 'Unsafe: dial seed nodes (an error without p2p).' },
    { method: 'dial_peers', params: { peers: ['/ip4/127.0.0.1/tcp/26656/p2p/12D3KooW…'], persistent: true }, uri: '/dial_peers?peers=["…"]&persistent=true', about: 'Unsafe: dial peers, optionally persistent/unconditional/private (an error without p2p).' },
  ];
  for (const e of endpoints) {
    const { request, response } = await rpc(e.method, e.params);
    sections.push(
      [
        `### ${e.method}`,
        '',
        e.about,
        '',
        `URI: \`GET ${e.uri}\``,
        '',
        '```json',
        JSON.stringify(request),
        '```',
        '',
        '```json',
        JSON.stringify(shorten(response), null, 2),
        '```',
        '',
      ].join('\n'),
    );
  }
  const sub = wsMessages.find((m) => m.id === 'blocks' && !(m.result as JsonObject | undefined)?.data);
  const newBlock = wsMessages.find((m) => m.id === 'blocks' && (m.result as JsonObject | undefined)?.data);
  const txEvent = wsMessages.find((m) => m.id === 'txs' && (m.result as JsonObject | undefined)?.data);
  sections.push(
    [
      '### subscribe / unsubscribe / unsubscribe_all (websocket only)',
      '',
      "Subscribe with a query; the reply and every event carry the request's id.",
      '',
      '```json',
      JSON.stringify({ jsonrpc: '2.0', id: 'blocks', method: 'subscribe', params: { query: "tm.event='NewBlock'" } }),
      '```',
      '',
      '```json',
      JSON.stringify(sub ?? null),
      '```',
      '',
      'A NewBlock event:',
      '',
      '```json',
      JSON.stringify(shorten(newBlock ?? null), null, 2),
      '```',
      '',
      "A Tx event (`tm.event='Tx' AND app.key='color'`):",
      '',
      '```json',
      JSON.stringify(shorten(txEvent ?? null), null, 2),
      '```',
      '',
    ].join('\n'),
  );
} finally {
  await node.stop();
}

const doc = `# RPC

Tally serves CometBFT 0.38's JSON-RPC, so CometBFT clients (e.g. \`@cosmjs/tendermint-rpc\`'s
\`connectComet\`, which picks \`Comet38Client\` from \`node_info.version\` = \`0.38.0-tally.…\`) work
unchanged. The examples below come from a real single validator; regenerate this file with
\`npx tsc -p tsconfig.bench.json && node dist-bench/bench/rpc-docs.js\`.

## Transports

- **JSON-RPC 2.0 over HTTP POST** to \`/\`: \`params\` as an object or a positional array; batches
  (arrays of requests, at most 10); requests without an \`id\` are notifications and get no reply.
- **URI GET**: \`/<method>?<param>=<value>\` — integers bare, strings quoted (\`"…"\`), bytes as
  \`0x\`-hex or a quoted string. Replies have \`id: -1\`. \`GET /\` lists the methods.
- **Websocket** at \`/websocket\`: the same JSON-RPC calls, plus \`subscribe\`, \`unsubscribe\`,
  \`unsubscribe_all\`.

## Encodings

int64/uint64 are decimal strings, int32/uint32 JSON numbers; hashes and addresses uppercase hex;
byte arrays (txs, data, signatures, keys) padded base64; times RFC 3339 with up to nine fractional
digits; event attributes plain strings.

## Errors

JSON-RPC error objects \`{code, message, data}\` with HTTP status 200 (4xx only for transport
failures: 413 for a body over \`rpc.max_body_bytes\`, 404 for an unknown URI method or path):

| code | message | when |
|---|---|---|
| -32700 | Parse error. Invalid JSON | the body is not JSON |
| -32600 | Invalid Request | not a request object, bad \`id\`/\`jsonrpc\`/\`method\`, empty or oversized batch |
| -32601 | Method not found | unknown method (also unsafe methods without \`rpc.unsafe\`, and subscribe over HTTP) |
| -32602 | Invalid params | a parameter of the wrong type or out of range, a bad query, a page past the last |
| -32603 | Internal error | a valid request the node cannot serve (height not reached, tx not found, limits), with the reason in \`data\` |
| -32000 | Server error | a subscription ended by the node (slow client, shutdown) |

No answer carries a stack trace.

## Limits

| config key | default | what |
|---|---|---|
| \`rpc.laddr\` | tcp://127.0.0.1:26657 | listen address |
| \`rpc.max_body_bytes\` | 1000000 | request body (HTTP) and websocket message size |
| \`rpc.max_open_connections\` | 900 | simultaneous HTTP connections |
| \`rpc.max_subscription_clients\` | 100 | websocket clients, and clients with subscriptions |
| \`rpc.max_subscriptions_per_client\` | 5 | subscriptions per websocket client |
| \`rpc.timeout_broadcast_tx_commit\` | 10s | how long broadcast_tx_commit waits |
| \`rpc.cors_allowed_origins\` | [] | CORS origins (\`["*"]\` for any) |
| \`rpc.unsafe\` | false | enables dial_seeds, dial_peers, unsafe_flush_mempool |

Fixed bounds: 10 requests per batch; 4 MiB of unsent data per websocket client; 10,000 undelivered
events per subscription; queries of at most 512 characters. A websocket client over either bound is
sent \`subscription was canceled (reason: slow client…)\` and disconnected (close code 1008 with the
reason); publishing never waits for a subscriber.

## Events

Queries use CometBFT's language (\`tm.event='Tx' AND app.key='name'\`, \`tx.height > 5\`, \`CONTAINS\`,
\`EXISTS\`, \`DATE\`/\`TIME\` operands). Each event is sent as
\`{"jsonrpc":"2.0","id":<subscribe id>,"result":{"query":…,"data":{"type":…,"value":…},"events":{…}}}\`
where \`events\` maps composite keys (\`tm.event\`, \`tx.hash\`, \`tx.height\`, \`<type>.<attr>\`) to
string arrays.

| tm.event | data.type | data.value |
|---|---|---|
| NewBlock | tendermint/event/NewBlock | block, block_id, result_finalize_block |
| NewBlockHeader | tendermint/event/NewBlockHeader | header |
| NewBlockEvents | tendermint/event/NewBlockEvents | height, events, num_txs |
| NewEvidence | tendermint/event/NewEvidence | height, evidence |
| Tx | tendermint/event/Tx | TxResult {height, index, tx, result} |
| ValidatorSetUpdates | tendermint/event/ValidatorSetUpdates | validator_updates |
| NewRound | tendermint/event/NewRound | height, round, step, proposer {address, index} |
| CompleteProposal | tendermint/event/CompleteProposal | height, round, step, block_id |
| Vote | tendermint/event/Vote | Vote |
| NewRoundStep, Lock, Polka, ValidBlock, TimeoutPropose, TimeoutWait | tendermint/event/RoundState | height, round, step |

## Command line

\`tally tx KEY=VALUE [--node URL] [--async|--sync|--commit] [--json]\` (commit is the default),
\`tally query KEY [--node URL] [--height H] [--json]\` (exit code 1 if absent),
\`tally status [--node URL] [--json]\`. \`--node\` defaults to http://127.0.0.1:26657 and accepts
\`tcp://host:port\`.

## Endpoints

${sections.join('\n')}`;
writeFileSync(OUT, doc);
process.stdout.write(`wrote ${OUT}\n`);
