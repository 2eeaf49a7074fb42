// Peer bans on disk (<db_dir>/peer_bans.json), so a ban lasts its whole p2p.ban_duration across a
// restart instead of ending with the process. Written atomically whenever a ban is imposed (bans
// are rare); read leniently, like the address book: an entry that does not check out is skipped,
// and a file that cannot be read at all is moved aside (never overwritten), the node then starting
// with no bans. Times are the scores' clock: wall-clock milliseconds in a node.
import { writeFileAtomicSync } from '../fsutil/index.js';
import { readListFile } from './list-file.js';
import { DEFAULT_PENALTIES, type Ban, type Offence } from './peer-scores.js';

const VERSION = 1;

export interface LoadedBans {
  readonly bans: Ban[];
  /** Entries skipped as malformed. */
  readonly skipped: number;
  /** Set when the whole file was unreadable: where it was moved, and why. */
  readonly movedAside?: { readonly to: string; readonly reason: string };
}

export function saveBans(path: string, bans: readonly Ban[]): void {
  const json = { version: VERSION, bans: bans.map((b) => ({ peer: b.peer, reason: b.reason, since: b.since, until: b.until, score: b.score })) };
  writeFileAtomicSync(path, `${JSON.stringify(json, null, 2)}\n`, 0o600);
}

export function loadBans(path: string): LoadedBans {
  const { items: bans, skipped, movedAside } = readListFile(path, 'bans', VERSION, banOf);
  return movedAside ? { bans, skipped, movedAside } : { bans, skipped };
}

const time = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function banOf(e: unknown): Ban | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const { peer, reason, since, until, score } = e as Record<string, unknown>;
  if (typeof peer !== 'string' || peer.length === 0 || peer.length > 128) return undefined;
  if (typeof reason !== 'string' || !Object.hasOwn(DEFAULT_PENALTIES, reason)) return undefined;
  if (!time(since) || !time(until) || until < since) return undefined;
  if (typeof score !== 'number' || !Number.isFinite(score)) return undefined;
  return { peer, reason: reason as Offence, since, until, score };
}
