import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `../shared` beside the checkout: real CometBFT vectors. Tests fail loudly if it is missing. */
export const SHARED = resolve(ROOT, '..', 'shared');

export function sharedPath(...parts: string[]): string {
  const p = join(SHARED, ...parts);
  if (!existsSync(p)) throw new Error(`missing ${p}: clone the project with ../shared beside it`);
  return p;
}
