export { replaceFileSync, writeFileAtomicSync, writeFileAtomic, fsyncDir, fsyncDirAsync, ensureDir } from './atomic.js';
