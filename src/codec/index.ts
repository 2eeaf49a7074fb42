export { DecodeError } from './errors.js';
export * from './model.js';
export { ProtoWriter, ProtoReader, lengthPrefixed } from './proto.js';
export * from './messages.js';
export * from './json.js';
export * from './storage.js';
export { ByteSlab, ON_HEAP_MAX, packSmall, writeU32 } from './slab.js';
