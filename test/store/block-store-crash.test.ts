// kill -9 in the middle of saving blocks: after every crash the store reopens with whole blocks
// only — every height from base to height complete, nothing above it.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeBlock } from '../../src/codec/index.js';
import { BlockStore } from '../../src/store/index.js';
import { ROOT } from '../helpers/shared.js';
import { makeBlock, tempDir, type ChainBlock } from './fixtures.js';

let dir: { path: string; remove: () => Promise<void> };
let writer: string;

// The child must run the TypeScript store without vitest: bundle it with rolldown (a dev dependency, vite's
// bundler, present with vitest), keeping classic-level (a native addon) external by absolute path.
async function bundleWriter(out: string): Promise<void> {
  const { build } = (await import('rolldown')) as unknown as {
    build(opts: Record<string, unknown>): Promise<unknown>;
  };
  const classicLevel = pathToFileURL(join(ROOT, 'node_modules', 'classic-level', 'index.js')).href;
  await build({
    input: join(ROOT, 'test', 'store', 'crash-writer.ts'),
    platform: 'node',
    logLevel: 'silent',
    plugins: [{ name: 'external-classic-level', resolveId: (id: string) => (id === 'classic-level' ? { id: classicLevel, external: true } : null) }],
    output: { file: out, format: 'esm' },
  });
}

/** Runs the writer until it has acknowledged `target`, then SIGKILLs it. */
function runAndKill(dbPath: string, target: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [writer, dbPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    let acked = 0;
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      for (const m of d.toString().matchAll(/saved (\d+)/g)) acked = Math.max(acked, Number(m[1]));
      if (acked >= target && child.exitCode === null && !child.killed) child.kill('SIGKILL');
    });
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve(acked) : reject(new Error(`writer exited (${code}): ${stderr}`))));
  });
}

beforeAll(async () => {
  dir = await tempDir('crash');
  writer = join(dir.path, 'writer.mjs');
  await bundleWriter(writer);
});

afterAll(async () => {
  await dir.remove();
});

describe('block store crash safety', () => {
  it('holds only whole blocks after kill -9 during saves', async () => {
    const dbPath = join(dir.path, 'blocks.db');
    const chain: ChainBlock[] = [];
    const blockAt = (h: number): ChainBlock => {
      while (chain.length < h) chain.push(makeBlock(chain.length + 1, chain[chain.length - 1], (chain.length + 1) % 3 === 0 ? 3 : 0));
      return chain[h - 1]!;
    };
    let target = 0;
    for (let round = 0; round < 3; round++) {
      target += 12;
      const acked = await runAndKill(dbPath, target);
      const store = new BlockStore({ path: dbPath });
      await store.open();
      try {
        const height = store.height();
        // Every acknowledged save survived; maybe some after it, never a partial one.
        expect(height).toBeGreaterThanOrEqual(acked);
        expect(store.base()).toBe(1);
        for (let h = 1; h <= height; h++) {
          const b = blockAt(h);
          const loaded = await store.loadBlock(h);
          expect(loaded, `block ${h}`).toBeDefined();
          expect(Buffer.from(encodeBlock(loaded!)).equals(encodeBlock(b.block))).toBe(true);
          expect(await store.loadSeenCommit(h)).toEqual(b.seenCommit);
        }
        expect(await store.loadBlockMeta(height + 1)).toBeUndefined();
        expect(await store.loadBlockPart(height + 1, 0)).toBeUndefined();
        expect(await store.loadSeenCommit(height + 1)).toBeUndefined();
        target = height;
      } finally {
        await store.close();
      }
    }
  });
});
