export { writeFileAtomicSync, fsyncDir } from './atomic.js';
