/** Input could not be decoded. `path` names the field being read (e.g. "Block.header.time"). */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  constructor(
    message: string,
    readonly path: string = '',
    readonly offset?: number,
  ) {
    super(path ? `${path}: ${message}` : message);
  }
}
