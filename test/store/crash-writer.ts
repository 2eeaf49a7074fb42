// Child process for the crash test (bundled by block-store-crash.test.ts, not run by vitest):
// saves blocks after the store's current height forever, printing "saved <h>" after each
// acknowledged save, until the parent kills it with SIGKILL.
import { BlockStore } from '../../src/store/index.js';
import { makeBlock, type ChainBlock } from './fixtures.js';

const store = new BlockStore({ path: process.argv[2]! });
await store.open();
let prev: ChainBlock | undefined;
for (let h = 1; h <= store.height(); h++) prev = makeBlock(h, prev, h % 3 === 0 ? 3 : 0);
for (let h = store.height() + 1; ; h++) {
  const b = makeBlock(h, prev, h % 3 === 0 ? 3 : 0);
  await store.saveBlock(b.block, b.seenCommit, b.parts);
  process.stdout.write(`saved ${h}\n`);
  prev = b;
}
