export { TallyNode, NodeError } from './node.js';
