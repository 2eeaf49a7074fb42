export type StoreErrorCode =
  /** The store was used before open() or after close(). */
  | 'not_open'
  /** A save would leave a gap or overwrite history (blocks must be saved in height order). */
  | 'not_contiguous'
  /** Arguments disagree with each other (a commit for another height or block, parts that do not match). */
  | 'mismatch'
  /** The caller asked for something outside what the store holds (pruned, not yet saved). */
  | 'not_found'
  /** An argument is out of range (a height below 1, a retain height beyond the tip). */
  | 'invalid_argument'
  /** Stored bytes could not be decoded or an expected record is missing: the database is damaged. */
  | 'corrupt'
  /** A search was asked for a page past the last one. */
  | 'page_out_of_range'
  /** A search query is valid syntax but cannot be served (e.g. tx.hash that is not hex). */
  | 'invalid_query'
  /** A search matched more items than the configured bound. */
  | 'too_many_results';

/** Failure of a store operation; `context` carries the heights/keys involved. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    readonly context: Record<string, unknown> = {},
  ) {
    super(message);
  }
}
