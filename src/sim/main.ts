// Entry point of `npm run sim` (see cli.ts for the flags).
import '../polyfill/index.js';
import { runCli } from './cli.js';

process.exitCode = runCli(process.argv.slice(2), (line) => console.log(line));
