export { CounterApp, CODE_BAD_ENCODING, CODE_BAD_NONCE, encodeCount } from './counter.js';
