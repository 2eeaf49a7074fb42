// Peer scores and bans, as plain bookkeeping: no sockets, no timers, a clock passed in. A peer
// starts at score 0; each offence subtracts its penalty; the score decays back towards 0
// exponentially (half-life `halfLifeMs`), so occasional noise is forgiven and a steady stream of
// bad messages is not. When a score reaches -banThreshold the peer is banned until
// now + banDurationMs (the caller disconnects it and refuses it meanwhile); when the ban
// expires the peer starts again from 0.

/** Why a peer lost score. Also the `reason` of a ban (and of the p2p_peer_bans_total label). */
export type Offence =
  /** A gossip message that does not decode (or breaks a size limit). */
  | 'undecodable'
  /** A vote or proposal whose signature does not verify against the validators of its height. */
  | 'invalid_signature'
  /** Evidence that fails verification for a reason of its own (not a race: expired, committed, unknown height). */
  | 'invalid_evidence'
  /** A peer of another chain (it speaks another chain's protocols, not ours). */
  | 'wrong_chain'
  /** More messages per second than a peer may send. */
  | 'flood'
  /** A peer-exchange message that does not decode, or requests too often. */
  | 'bad_pex';

/** Points subtracted per offence; a peer is banned at -DEFAULT_BAN_THRESHOLD. */
export const DEFAULT_PENALTIES: Readonly<Record<Offence, number>> = {
  undecodable: 10,
  invalid_signature: 50,
  invalid_evidence: 50,
  wrong_chain: 100,
  flood: 25,
  bad_pex: 20,
};

export const DEFAULT_BAN_THRESHOLD = 100;
export const DEFAULT_BAN_DURATION_MS = 60 * 60 * 1000;
export const DEFAULT_SCORE_HALF_LIFE_MS = 60_000;
export const DEFAULT_MAX_SCORED_PEERS = 4096;

export interface PeerScoreOptions {
  /** A peer whose score falls to -banThreshold or below is banned. */
  readonly banThreshold?: number;
  readonly banDurationMs?: number;
  /** Time for a score to decay halfway back to 0. */
  readonly halfLifeMs?: number;
  /** Peers whose score (and, separately, whose ban) is remembered; the oldest are forgotten first. */
  readonly maxPeers?: number;
  readonly penalties?: Partial<Record<Offence, number>>;
}

export interface PeerScoreModules {
  /** Milliseconds, monotonic enough for bans (tests pass a fake clock). */
  readonly now?: () => number;
}

export interface Ban {
  readonly peer: string;
  readonly reason: Offence;
  /** When the ban was imposed and when it ends (ms, the scores' clock). */
  readonly since: number;
  readonly until: number;
  /** The score that crossed the threshold. */
  readonly score: number;
}

interface Entry {
  score: number;
  at: number;
}

export class PeerScores {
  private readonly scores = new Map<string, Entry>();
  private readonly banned = new Map<string, Ban>();
  private readonly now: () => number;
  readonly banThreshold: number;
  readonly banDurationMs: number;
  private readonly halfLifeMs: number;
  private readonly maxPeers: number;
  private readonly penalties: Record<Offence, number>;

  constructor(opts: PeerScoreOptions = {}, m: PeerScoreModules = {}) {
    this.now = m.now ?? Date.now;
    this.banThreshold = opts.banThreshold ?? DEFAULT_BAN_THRESHOLD;
    this.banDurationMs = opts.banDurationMs ?? DEFAULT_BAN_DURATION_MS;
    this.halfLifeMs = opts.halfLifeMs ?? DEFAULT_SCORE_HALF_LIFE_MS;
    this.maxPeers = opts.maxPeers ?? DEFAULT_MAX_SCORED_PEERS;
    this.penalties = { ...DEFAULT_PENALTIES, ...opts.penalties };
  }

  /** The peer's score now (0 for a peer never penalized, negative after offences). */
  score(peer: string): number {
    const e = this.scores.get(peer);
    return e ? this.decayed(e, this.now()) : 0;
  }

  /**
   * Subtracts the offence's penalty (`times` over). Returns the ban if this took the peer to the
   * threshold; null otherwise, and for a peer that is already banned.
   */
  penalize(peer: string, offence: Offence, times = 1): Ban | null {
    const now = this.now();
    if (this.isBanned(peer)) return null;
    const e = this.scores.get(peer);
    const score = (e ? this.decayed(e, now) : 0) - this.penalties[offence] * times;
    this.scores.delete(peer); // re-insert: the map's order is recency, the oldest is evicted first
    if (score > -this.banThreshold) {
      this.scores.set(peer, { score, at: now });
      this.evict(this.scores);
      return null;
    }
    return this.ban(peer, offence, score);
  }

  /** Bans `peer` now, whatever its score (e.g. an operator's decision). */
  ban(peer: string, reason: Offence, score = this.score(peer)): Ban {
    const now = this.now();
    const ban: Ban = { peer, reason, since: now, until: now + this.banDurationMs, score };
    this.scores.delete(peer);
    this.banned.delete(peer);
    this.banned.set(peer, ban);
    this.evict(this.banned);
    return ban;
  }

  isBanned(peer: string): boolean {
    return this.banOf(peer) !== undefined;
  }

  /** The peer's ban if it is still in force (an expired one is dropped here). */
  banOf(peer: string): Ban | undefined {
    const b = this.banned.get(peer);
    if (b === undefined) return undefined;
    if (this.now() < b.until) return b;
    this.banned.delete(peer);
    return undefined;
  }

  /** Bans in force. */
  bans(): Ban[] {
    const now = this.now();
    for (const [peer, b] of this.banned) if (now >= b.until) this.banned.delete(peer);
    return [...this.banned.values()];
  }

  unban(peer: string): void {
    this.banned.delete(peer);
  }

  /** Bans kept from before a restart, as they were; those already over are dropped. Returns how many hold. */
  restore(bans: readonly Ban[]): number {
    const now = this.now();
    let n = 0;
    for (const b of bans) {
      if (now >= b.until) continue;
      const held = this.banned.get(b.peer);
      if (held && held.until >= b.until) continue;
      this.banned.delete(b.peer);
      this.banned.set(b.peer, b);
      n++;
    }
    this.evict(this.banned);
    return n;
  }

  private decayed(e: Entry, now: number): number {
    const s = e.score * 2 ** (-Math.max(0, now - e.at) / this.halfLifeMs);
    return s > -1e-9 ? 0 : s;
  }

  private evict<V>(m: Map<string, V>): void {
    while (m.size > this.maxPeers) m.delete(m.keys().next().value!);
  }
}
