// The address book on disk (p2p.addr_book_file, CometBFT's config/addrbook.json in spirit; the
// format is Tally's own, since its addresses are libp2p multiaddrs). Written atomically; read
// leniently: an entry that does not check out is skipped, and a file that cannot be read at all
// is moved aside (never overwritten) so the node starts with an empty book and loses nothing.
import { writeFileAtomicSync } from '../fsutil/index.js';
import type { SavedPeer } from './address-book.js';
import { readListFile } from './list-file.js';
import { checkPexAddr } from './messages.js';

const VERSION = 1;

export interface LoadedAddressBook {
  readonly peers: SavedPeer[];
  /** Entries skipped as malformed. */
  readonly skipped: number;
  /** Set when the whole file was unreadable: where it was moved, and why. */
  readonly movedAside?: { readonly to: string; readonly reason: string };
}

/**
 * Writes the book (atomically, fsynced) and returns the text written. Given the text of the last
 * save, an unchanged book is not written again: the save runs every pex interval, and a book
 * mostly stays as it was.
 */
export function saveAddressBook(path: string, peers: readonly SavedPeer[], lastSaved?: string): string {
  const json = { version: VERSION, peers: peers.map((p) => ({ id: p.id, addrs: p.addrs, source: p.source, last_connected: p.lastConnected })) };
  const text = `${JSON.stringify(json, null, 2)}\n`;
  if (text !== lastSaved) writeFileAtomicSync(path, text, 0o600);
  return text;
}

export function loadAddressBook(path: string): LoadedAddressBook {
  const { items: peers, skipped, movedAside } = readListFile(path, 'peers', VERSION, peerOf);
  return movedAside ? { peers, skipped, movedAside } : { peers, skipped };
}

function peerOf(e: unknown): SavedPeer | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const { id, addrs, source, last_connected: lastConnected } = e as Record<string, unknown>;
  if (typeof id !== 'string' || !Array.isArray(addrs) || addrs.length === 0) return undefined;
  if (source !== 'identify' && source !== 'pex') return undefined;
  if (typeof lastConnected !== 'number' || !Number.isSafeInteger(lastConnected) || lastConnected < 0) return undefined;
  const ok = addrs.filter((a): a is string => {
    if (typeof a !== 'string') return false;
    const c = checkPexAddr(a);
    return typeof c !== 'string' && c.peerId === id;
  });
  if (ok.length !== addrs.length) return undefined;
  return { id, addrs: ok, source, lastConnected };
}
