// The shape the address book and the peer bans share on disk: {"version": V, "<list>": [...]},
// read leniently. A file that cannot be read at all is moved aside (never overwritten) and reads
// as an empty list, so the node starts and loses nothing; each entry is then checked by its owner.
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { errorMessage, type P2PLogger } from './errors.js';

export interface ListFileRead<T> {
  readonly items: T[];
  /** Entries `parse` refused (malformed). */
  readonly skipped: number;
  /** Set when the whole file was unreadable: where it was moved, and why. */
  readonly movedAside?: { readonly to: string; readonly reason: string };
}

/** The list's entries that `parse` accepts; a missing file is an empty list. */
export function readListFile<T>(path: string, list: string, version: number, parse: (entry: unknown) => T | undefined): ListFileRead<T> {
  if (!existsSync(path)) return { items: [], skipped: 0 };
  let entries: unknown[];
  try {
    const doc: unknown = JSON.parse(readFileSync(path, 'utf8'));
    const found = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>)[list] : undefined;
    if (!Array.isArray(found)) throw new Error(`no "${list}" list`);
    const v = (doc as { version?: unknown }).version;
    if (v !== version) throw new Error(`unknown version ${JSON.stringify(v)}`);
    entries = found as unknown[];
  } catch (e) {
    const to = `${path}.unreadable-${Date.now()}`;
    renameSync(path, to);
    return { items: [], skipped: 0, movedAside: { to, reason: e instanceof Error ? e.message : String(e) } };
  }
  const items: T[] = [];
  let skipped = 0;
  for (const e of entries) {
    const item = parse(e);
    if (item === undefined) skipped++;
    else items.push(item);
  }
  return { items, skipped };
}

/**
 * At start: `load` reads a list file and `restore` takes its entries, returning how many it kept;
 * each outcome is logged under `what` ("address book", "peer bans"). Never throws: a file that
 * cannot be read leaves the node starting with none.
 */
export function restoreListFile<T>(
  log: Pick<P2PLogger, 'info' | 'warn'>,
  file: string,
  what: string,
  load: () => ListFileRead<T>,
  restore: (items: T[]) => number,
): void {
  try {
    const loaded = load();
    if (loaded.movedAside) log.warn({ file, movedTo: loaded.movedAside.to, err: loaded.movedAside.reason }, `${what} file unreadable: moved aside, starting without it`);
    if (loaded.skipped > 0) log.warn({ file, skipped: loaded.skipped }, `${what}: entries skipped as malformed`);
    const kept = restore(loaded.items);
    if (kept > 0) log.info({ file, entries: kept }, `${what} loaded`);
  } catch (e) {
    log.warn({ file, err: errorMessage(e) }, `could not read the ${what} file: starting without it`);
  }
}
