// Typed p2p errors. A P2PError is an operational failure the caller can act on (bad config, a
// dial or request that failed, a peer that answered nonsense); its `kind` says which.

export type P2PErrorKind =
  /** The p2p section of the config cannot be used (bad multiaddr, no peer id). */
  | 'config'
  /** The host could not listen on its address (in use, not local). */
  | 'listen'
  /** The host is not started, or was stopped while the operation ran. */
  | 'not_running'
  /** A dial failed, timed out, or was refused (limits, bans). */
  | 'dial_failed'
  /** A request to a peer failed or timed out. */
  | 'request_failed'
  /** A peer's answer could not be decoded or broke the protocol's limits. */
  | 'bad_response';

export class P2PError extends Error {
  override readonly name = 'P2PError';
  constructor(
    readonly kind: P2PErrorKind,
    message: string,
    readonly context: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}

/** Pino-shaped; a pino Logger fits. */
export interface P2PLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const SILENT_LOGGER: P2PLogger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
