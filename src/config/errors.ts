/**
 * A configuration or home-directory problem an operator must fix. `file` is the file being read
 * (or "command line"), `key` the config key, flag or JSON field — both appear in the message so
 * the operator sees exactly where to look.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly detail: string,
    readonly file?: string,
    readonly key?: string,
  ) {
    super([file, key, detail].filter((p) => p !== undefined && p !== '').join(': '));
  }
}
