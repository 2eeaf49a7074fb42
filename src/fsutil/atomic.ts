// Durable file replacement: write a temp file beside the target, fsync it, rename it over the
// target, then fsync the directory so the rename itself survives a crash — the step CometBFT's
// signer state once missed. A reader sees the old file or the new one, never a torn one.
// A sync form for the signer (its state must be durable before a signature is returned, with
// nothing interleaving) and an async form for everything else.
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

function tempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export async function fsyncDirAsync(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Atomically replaces `path` with a file that `fill` writes through the descriptor it is given
 * (positioned writes), created with exactly `mode` (umask does not apply); durable on return.
 * `tmp` names the temp file beside `path` (a random one by default); a leftover of an earlier
 * crash under that name is removed first.
 */
export function replaceFileSync(path: string, fill: (fd: number) => void, mode = 0o600, tmp = tempPath(path)): void {
  rmSync(tmp, { force: true });
  try {
    const fd = openSync(tmp, 'wx', mode);
    try {
      chmodSync(tmp, mode);
      fill(fd);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  fsyncDir(dirname(path));
}

/** Atomically replace `path` with `data`, created with exactly `mode` (umask does not apply); durable on return. */
export function writeFileAtomicSync(path: string, data: string | Uint8Array, mode = 0o600): void {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  replaceFileSync(
    path,
    (fd) => {
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    },
    mode,
  );
}

/** The async form of writeFileAtomicSync. */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const tmp = tempPath(path);
  try {
    const fh = await open(tmp, 'wx', mode);
    try {
      await fh.chmod(mode);
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  await fsyncDirAsync(dirname(path));
}

/** mkdir -p with a mode for the directories it creates. */
export async function ensureDir(dir: string, mode = 0o700): Promise<void> {
  await mkdir(dir, { recursive: true, mode });
}
