// What tx_search and block_search share: CometBFT's paging and ordering rules, and reading a
// height range out of a query's height conditions so a scan can be bounded.
import { StoreError } from './errors.js';
import type { Condition } from '../query/index.js';

export const DEFAULT_PER_PAGE = 30;
export const MAX_PER_PAGE = 100;
/** Default bound on the items one search may match before paging (see too_many_results). */
export const DEFAULT_MAX_MATCHES = 100_000;

export interface SearchOptions {
  /** 1-based; default 1. Past the last page is an error (page_out_of_range), as in CometBFT. */
  readonly page?: number;
  /** Default 30; below 1 means the default, above 100 is capped at 100 (CometBFT's rules). */
  readonly perPage?: number;
  /** 'asc' (default, also '') or 'desc': by height, then by index within a block. */
  readonly orderBy?: string;
}

export interface SearchResult<T> {
  /** Matches before paging (RPC total_count). */
  readonly total: number;
  readonly items: T[];
}

export function perPageOf(perPage: number | undefined): number {
  if (perPage === undefined || !Number.isFinite(perPage) || perPage < 1) return DEFAULT_PER_PAGE;
  return Math.min(Math.floor(perPage), MAX_PER_PAGE);
}

export function descending(orderBy: string | undefined): boolean {
  if (orderBy === undefined || orderBy === '' || orderBy === 'asc') return false;
  if (orderBy === 'desc') return true;
  throw new StoreError('invalid_argument', `order_by must be "asc", "desc" or empty, got "${orderBy}"`, { orderBy });
}

/** The slice [offset, offset + limit) of `total` ordered items that the requested page covers. */
export function pageWindow(total: number, opts: SearchOptions): { offset: number; limit: number } {
  const perPage = perPageOf(opts.perPage);
  const pages = Math.max(1, Math.ceil(total / perPage));
  const page = opts.page ?? 1;
  if (!Number.isInteger(page) || page < 1 || page > pages)
    throw new StoreError('page_out_of_range', `page should be within [1, ${pages}] range, given ${page}`, { page, pages, total, perPage });
  const offset = (page - 1) * perPage;
  return { offset, limit: Math.min(perPage, total - offset) };
}

/**
 * A superset of the heights the numeric comparisons among `conditions` allow, as an inclusive
 * [lo, hi] (lo > hi when none). Other conditions do not narrow it; callers still test every
 * condition on each height.
 */
export function heightRange(conditions: readonly Condition[]): { lo: number; hi: number } {
  let lo = 0n;
  let hi = BigInt(Number.MAX_SAFE_INTEGER);
  for (const c of conditions) {
    if (c.op === 'EXISTS' || c.op === 'CONTAINS' || c.operand.type !== 'number') continue;
    const v = c.operand.value;
    if (v.negative) continue; // query literals are never negative; no narrowing is still a superset
    const floor = BigInt(v.integer === '' ? '0' : v.integer);
    const whole = v.fraction === '';
    const ceil = whole ? floor : floor + 1n;
    switch (c.op) {
      case '=':
        if (!whole) return { lo: 1, hi: 0 };
        if (floor > lo) lo = floor;
        if (floor < hi) hi = floor;
        break;
      case '>':
        if (floor + 1n > lo) lo = floor + 1n;
        break;
      case '>=':
        if (ceil > lo) lo = ceil;
        break;
      case '<':
        if (ceil - 1n < hi) hi = ceil - 1n;
        break;
      case '<=':
        if (floor < hi) hi = floor;
        break;
    }
  }
  const clamp = (x: bigint): number => Number(x < 0n ? 0n : x > BigInt(Number.MAX_SAFE_INTEGER) ? BigInt(Number.MAX_SAFE_INTEGER) : x);
  if (lo > hi) return { lo: 1, hi: 0 };
  return { lo: clamp(lo), hi: clamp(hi) };
}
