// Which connected peers speak one protocol of ours. libp2p reports a peer's protocols through
// identify: once when a connection has been identified (peer:identify), and again when the peer
// pushes a change (peer:update) — e.g. after it registered a handler later than it connected. A
// service starts after its host, which dials its persistent peers while starting, so it must also
// look at the peers identified before it started; missing those left a peer unasked until it
// reconnected.
import type { IdentifyResult, PeerUpdate } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import type { P2PHost } from './host.js';

export class ProtocolPeers implements Iterable<string> {
  private readonly peers = new Set<string>();
  private running = false;

  /** `onPeer` is told of each connected peer once it is known to speak `protocol` (again after a reconnection). */
  constructor(
    private readonly host: P2PHost,
    private readonly protocol: string,
    private readonly onPeer: (peer: string) => void,
  ) {}

  /** Listens for peers; the host must be started. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const node = this.host.libp2p;
    node.addEventListener('peer:identify', this.onIdentify);
    node.addEventListener('peer:update', this.onUpdate);
    node.addEventListener('peer:disconnect', this.onDisconnect);
    for (const p of this.host.peers()) {
      const known = await node.peerStore.get(peerIdFromString(p.id)).catch(() => undefined);
      if (known?.protocols.includes(this.protocol)) this.add(p.id);
    }
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.peers.clear();
    if (!this.host.isRunning) return;
    const node = this.host.libp2p;
    node.removeEventListener('peer:identify', this.onIdentify);
    node.removeEventListener('peer:update', this.onUpdate);
    node.removeEventListener('peer:disconnect', this.onDisconnect);
  }

  has(peer: string): boolean {
    return this.peers.has(peer);
  }

  [Symbol.iterator](): Iterator<string> {
    return this.peers[Symbol.iterator]();
  }

  private add(peer: string): void {
    if (!this.running || this.peers.has(peer) || peer === this.host.peerId.toString() || !this.host.isConnected(peer)) return;
    this.peers.add(peer);
    this.onPeer(peer);
  }

  private readonly onIdentify = (e: CustomEvent<IdentifyResult>): void => {
    if (e.detail.protocols.includes(this.protocol)) this.add(e.detail.peerId.toString());
  };

  private readonly onUpdate = (e: CustomEvent<PeerUpdate>): void => {
    if (e.detail.peer.protocols.includes(this.protocol)) this.add(e.detail.peer.id.toString());
  };

  private readonly onDisconnect = (e: CustomEvent<{ toString(): string }>): void => {
    this.peers.delete(e.detail.toString());
  };
}
