// Example applications: each a real ABCI app, usable by the node as its in-process application.
export * as kvstore from './kvstore/index.js';
export * as counter from './counter/index.js';
export { KVStoreApp } from './kvstore/index.js';
export { CounterApp } from './counter/index.js';
