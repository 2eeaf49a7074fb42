// The parsed form of an event query (CometBFT's pubsub query language): a conjunction of
// conditions on composite keys ("type.attribute"). Operands keep the text as written (for
// printing and for exact string lookups) next to the value the matcher compares with, computed
// once at parse time.

/**
 * An exact decimal as normalised digit strings, so integers of any size and decimals compare
 * exactly (CometBFT uses big.Int / 125-bit big.Float) in time linear in their length.
 * `integer` has no leading zeros and `fraction` no trailing zeros; zero is ("", "", false).
 */
export interface Decimal {
  readonly negative: boolean;
  readonly integer: string;
  readonly fraction: string;
}

export type CompareOperator = '<' | '<=' | '>' | '>=';
export type Operator = '=' | CompareOperator | 'CONTAINS' | 'EXISTS';

export interface StringOperand {
  readonly type: 'string';
  /** The text between the quotes. */
  readonly value: string;
}

export interface NumberOperand {
  readonly type: 'number';
  /** As written, e.g. "10" or "3.25". */
  readonly text: string;
  readonly value: Decimal;
}

export interface DateOperand {
  readonly type: 'date';
  /** YYYY-MM-DD as written. */
  readonly text: string;
  /** Midnight UTC of that day, in nanoseconds since the Unix epoch. */
  readonly nanos: bigint;
}

export interface TimeOperand {
  readonly type: 'time';
  /** The RFC 3339 timestamp as written. */
  readonly text: string;
  /** Nanoseconds since the Unix epoch. */
  readonly nanos: bigint;
}

export type OrderedOperand = NumberOperand | DateOperand | TimeOperand;
export type Operand = StringOperand | OrderedOperand;

interface ConditionBase {
  /** The composite key, e.g. "tm.event", "tx.height", "transfer.sender". */
  readonly key: string;
  /** Offset of the key in the query text (0-based), for error messages downstream. */
  readonly position: number;
}

export interface ExistsCondition extends ConditionBase {
  readonly op: 'EXISTS';
}
export interface ContainsCondition extends ConditionBase {
  readonly op: 'CONTAINS';
  readonly operand: StringOperand;
}
export interface EqualCondition extends ConditionBase {
  readonly op: '=';
  readonly operand: Operand;
}
export interface CompareCondition extends ConditionBase {
  readonly op: CompareOperator;
  readonly operand: OrderedOperand;
}

export type Condition = ExistsCondition | ContainsCondition | EqualCondition | CompareCondition;

export interface Query {
  /** At least one; all must hold. */
  readonly conditions: readonly Condition[];
}

export function formatOperand(o: Operand): string {
  switch (o.type) {
    case 'string':
      return `'${o.value}'`;
    case 'number':
      return o.text;
    case 'date':
      return `DATE ${o.text}`;
    case 'time':
      return `TIME ${o.text}`;
  }
}

export function formatCondition(c: Condition): string {
  return c.op === 'EXISTS' ? `${c.key} EXISTS` : `${c.key} ${c.op} ${formatOperand(c.operand)}`;
}

/** The canonical text of a query; parsing it gives back the same conditions. */
export function formatQuery(q: Query): string {
  return q.conditions.map(formatCondition).join(' AND ');
}
