/** Bad command-line input (flag values, missing directories): printed as one line, exit code 1. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

/** A part of the node that later work provides. `start` ends with this until the runtime exists. */
export class NotImplementedError extends Error {
  override readonly name = 'NotImplementedError';
}
