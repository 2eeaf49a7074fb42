/** Bad command-line input (flag values, missing directories): printed as one line, exit code 1. */
export class CliError extends Error {
  override readonly name = 'CliError';
}
