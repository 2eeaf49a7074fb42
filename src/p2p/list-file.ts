// The shape the address book and the peer bans share on disk: {"version": V, "<list>": [...]},
// read leniently. A file that cannot be read at all is moved aside (never overwritten) and reads
// as an empty list, so the node starts and loses nothing; each entry is then checked by its owner.
import { existsSync, readFileSync, renameSync } from 'node:fs';

export interface ListFileRead {
  readonly entries: unknown[];
  /** Set when the whole file was unreadable: where it was moved, and why. */
  readonly movedAside?: { readonly to: string; readonly reason: string };
}

export function readListFile(path: string, list: string, version: number): ListFileRead {
  if (!existsSync(path)) return { entries: [] };
  try {
    const doc: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof doc !== 'object' || doc === null) throw new Error(`no "${list}" list`);
    const entries = (doc as Record<string, unknown>)[list];
    if (!Array.isArray(entries)) throw new Error(`no "${list}" list`);
    const v = (doc as { version?: unknown }).version;
    if (v !== version) throw new Error(`unknown version ${JSON.stringify(v)}`);
    return { entries: entries as unknown[] };
  } catch (e) {
    const to = `${path}.unreadable-${Date.now()}`;
    renameSync(path, to);
    return { entries: [], movedAside: { to, reason: e instanceof Error ? e.message : String(e) } };
  }
}
