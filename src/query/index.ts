// The event query language shared by the tx/block indexers (tx_search, block_search) and the
// RPC websocket subscriptions.
export type {
  CompareOperator,
  Condition,
  Decimal,
  Operand,
  OrderedOperand,
  Operator,
  Query,
  StringOperand,
  NumberOperand,
  DateOperand,
  TimeOperand,
} from './ast.js';
export { formatQuery, formatCondition, formatOperand } from './ast.js';
export { parseQuery, QuerySyntaxError, MAX_QUERY_LENGTH, MAX_CONDITIONS, type ParseOptions } from './parser.js';
export { conditionMatches, conditionMatchesValue, flattenEvents, matchesEvents, type EventLike, type EventMap } from './match.js';
export { compareDecimal, decimalFromValue, parseDecimal, instantFromValue } from './values.js';
