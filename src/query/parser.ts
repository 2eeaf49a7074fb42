// Parser for CometBFT's event query language. The grammar, restated from CometBFT's
// pubsub/query/syntax documentation:
//
//   query      = condition { "AND" condition } EOF
//   condition  = key ( "EXISTS" | "CONTAINS" string | "=" operand | cmp ordered )
//   cmp        = "<" | "<=" | ">" | ">="
//   operand    = string | ordered
//   ordered    = number | date | time
//
//   key        = one or more letters, digits, "_" or "." not starting with an ASCII digit
//                (a leading digit starts a number), e.g. tm.event, transfer.sender
//   string     = "'" any characters but "'" "'"        (no escapes, as in CometBFT)
//   number     = digits [ "." digits ]                  e.g. 0, 10, 3.25
//   date       = "DATE " YYYY-MM-DD
//   time       = "TIME " RFC 3339 timestamp, e.g. TIME 2013-05-03T14:45:00Z or …+02:00
//
// Keywords (AND, CONTAINS, EXISTS, DATE, TIME) are case-sensitive, as in CometBFT. Tokens need
// no whitespace between them ("tx.height=5"). Years of DATE/TIME literals must lie in
// 1900..2999 (CometBFT's bound). Extensions, all strictly more permissive: fractional seconds
// in TIME literals, and several spaces after DATE/TIME.
//
// Errors are QuerySyntaxError with the offset and what was expected; nothing else is thrown.
import type { CompareOperator, Condition, Operand, OrderedOperand, Query, StringOperand } from './ast.js';
import { parseDate, parseDecimal, parseTime } from './values.js';

/** CometBFT's RPC refuses queries longer than this (rpc/core maxQueryLength). */
export const MAX_QUERY_LENGTH = 512;
/** A bound on the work one query can ask for; far above any real use. */
export const MAX_CONDITIONS = 64;

export class QuerySyntaxError extends Error {
  override readonly name = 'QuerySyntaxError';
  constructor(
    /** What went wrong, without the position. */
    readonly reason: string,
    /** 0-based offset into the query text. */
    readonly position: number,
    /** What the parser would have accepted there (empty when not a matter of expectation). */
    readonly expected: readonly string[],
    /** Description of what it found instead. */
    readonly found: string,
  ) {
    super(`query syntax error at offset ${position}: ${reason}`);
  }
}

type TokenKind = 'key' | 'string' | 'number' | 'date' | 'time' | 'AND' | 'CONTAINS' | 'EXISTS' | '=' | '<' | '<=' | '>' | '>=' | 'end';

interface Token {
  readonly kind: TokenKind;
  /** For key: the name; string: the contents; number/date/time: the literal text. */
  readonly text: string;
  readonly position: number;
  /** For date/time: the instant in ns since the epoch. */
  readonly nanos?: bigint;
}

const TAG_CHAR = /[\p{L}\p{Nd}_.]/u;
const WHITESPACE = /\s/u;
const isAsciiDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isTagChar = (c: string | undefined): boolean => c !== undefined && TAG_CHAR.test(c);

function describe(t: Token): string {
  switch (t.kind) {
    case 'end':
      return 'end of query';
    case 'key':
      return `key "${t.text}"`;
    case 'string':
      return `string '${t.text}'`;
    case 'number':
      return `number ${t.text}`;
    case 'date':
      return `DATE ${t.text}`;
    case 'time':
      return `TIME ${t.text}`;
    default:
      return t.kind;
  }
}

/** Splits the text into tokens on demand; positions are offsets into the original text. */
class Scanner {
  private pos = 0;

  constructor(private readonly text: string) {}

  private fail(reason: string, position: number, expected: readonly string[], found: string): never {
    throw new QuerySyntaxError(reason, position, expected, found);
  }

  /** The whole code point at offset i (keys may hold letters outside the BMP). */
  private charAt(i: number): string | undefined {
    return i < this.text.length ? String.fromCodePoint(this.text.codePointAt(i)!) : undefined;
  }

  /** A literal must not run into a key character: "5abc" is a mistake, not 5 then abc. */
  private requireBoundary(what: string, start: number): void {
    const c = this.charAt(this.pos);
    if (isTagChar(c))
      this.fail(`invalid ${what} "${this.text.slice(start, this.pos + 1)}": unexpected '${c}'`, this.pos, [], `'${c}'`);
  }

  next(): Token {
    while (this.pos < this.text.length && WHITESPACE.test(this.text[this.pos]!)) this.pos++;
    const start = this.pos;
    const c = this.charAt(start);
    if (c === undefined) return { kind: 'end', text: '', position: start };
    if (isAsciiDigit(c)) return this.number(start);
    if (isTagChar(c)) return this.word(start);
    if (c === "'") return this.string(start);
    if (c === '=') {
      this.pos++;
      return { kind: '=', text: '=', position: start };
    }
    if (c === '<' || c === '>') {
      this.pos++;
      if (this.charAt(this.pos) === '=') {
        this.pos++;
        return { kind: c === '<' ? '<=' : '>=', text: `${c}=`, position: start };
      }
      return { kind: c, text: c, position: start };
    }
    return this.fail(`unexpected character '${c}'`, start, [], `'${c}'`);
  }

  private number(start: number): Token {
    while (isAsciiDigit(this.charAt(this.pos))) this.pos++;
    if (this.charAt(this.pos) === '.') {
      this.pos++;
      if (!isAsciiDigit(this.charAt(this.pos)))
        this.fail(`invalid number "${this.text.slice(start, this.pos)}": expected a digit after '.'`, this.pos, ['digit'], this.found(this.pos));
      while (isAsciiDigit(this.charAt(this.pos))) this.pos++;
    }
    this.requireBoundary('number', start);
    return { kind: 'number', text: this.text.slice(start, this.pos), position: start };
  }

  private found(at: number): string {
    const c = this.charAt(at);
    return c === undefined ? 'end of query' : `'${c}'`;
  }

  private word(start: number): Token {
    for (let c = this.charAt(this.pos); c !== undefined && isTagChar(c); c = this.charAt(this.pos)) this.pos += c.length;
    const text = this.text.slice(start, this.pos);
    // DATE/TIME introduce a literal only when a space follows (CometBFT's rule); otherwise they are keys.
    if ((text === 'DATE' || text === 'TIME') && this.charAt(this.pos) === ' ') {
      while (this.charAt(this.pos) === ' ') this.pos++;
      return text === 'DATE' ? this.date(start) : this.time(start);
    }
    if (text === 'AND' || text === 'CONTAINS' || text === 'EXISTS') return { kind: text, text, position: start };
    return { kind: 'key', text, position: start };
  }

  private date(start: number): Token {
    const from = this.pos;
    while (isAsciiDigit(this.charAt(this.pos)) || this.charAt(this.pos) === '-') this.pos++;
    const text = this.text.slice(from, this.pos);
    this.requireBoundary('DATE value', from);
    const parsed = parseDate(text);
    if (!parsed) this.fail(`invalid DATE value "${text}": expected YYYY-MM-DD, a calendar date`, from, ['YYYY-MM-DD'], text ? `"${text}"` : this.found(from));
    if (parsed.year < 1900 || parsed.year > 2999) this.fail(`DATE year ${parsed.year} out of range [1900, 2999]`, from, [], `"${text}"`);
    return { kind: 'date', text, position: start, nanos: parsed.nanos };
  }

  private time(start: number): Token {
    const from = this.pos;
    for (let c = this.charAt(this.pos); c !== undefined && (isAsciiDigit(c) || '-+:.TZ'.includes(c)); c = this.charAt(this.pos)) this.pos++;
    const text = this.text.slice(from, this.pos);
    this.requireBoundary('TIME value', from);
    const parsed = parseTime(text);
    if (!parsed)
      this.fail(
        `invalid TIME value "${text}": expected an RFC 3339 timestamp YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm)`,
        from,
        ['RFC 3339 timestamp'],
        text ? `"${text}"` : this.found(from),
      );
    if (parsed.year < 1900 || parsed.year > 2999) this.fail(`TIME year ${parsed.year} out of range [1900, 2999]`, from, [], `"${text}"`);
    return { kind: 'time', text, position: start, nanos: parsed.nanos };
  }

  private string(start: number): Token {
    const close = this.text.indexOf("'", start + 1);
    if (close < 0) this.fail('unterminated string: no closing quote', start, ["'"], 'end of query');
    this.pos = close + 1;
    return { kind: 'string', text: this.text.slice(start + 1, close), position: start };
  }
}

class Parser {
  private readonly scanner: Scanner;
  private token: Token;

  constructor(text: string) {
    this.scanner = new Scanner(text);
    this.token = this.scanner.next();
  }

  /** The current token's kind (a method, so narrowing does not survive advance()). */
  private kind(): TokenKind {
    return this.token.kind;
  }

  private advance(): Token {
    const t = this.token;
    this.token = this.scanner.next();
    return t;
  }

  private unexpected(expected: readonly string[]): never {
    const found = describe(this.token);
    const list = expected.length === 1 ? expected[0]! : `${expected.slice(0, -1).join(', ')} or ${expected[expected.length - 1]!}`;
    throw new QuerySyntaxError(`expected ${list}, found ${found}`, this.token.position, expected, found);
  }

  parse(): Query {
    const conditions: Condition[] = [this.condition()];
    while (this.token.kind !== 'end') {
      if (this.token.kind !== 'AND') this.unexpected(['AND', 'end of query']);
      const and = this.advance();
      if (conditions.length >= MAX_CONDITIONS)
        throw new QuerySyntaxError(`too many conditions (at most ${MAX_CONDITIONS})`, and.position, [], 'AND');
      conditions.push(this.condition());
    }
    return { conditions };
  }

  private condition(): Condition {
    if (this.kind() !== 'key') this.unexpected(['key']);
    const { text: key, position } = this.advance();
    const op = this.token;
    switch (op.kind) {
      case 'EXISTS':
        this.advance();
        return { key, position, op: 'EXISTS' };
      case 'CONTAINS':
        this.advance();
        if (this.kind() !== 'string') this.unexpected(['string']);
        return { key, position, op: 'CONTAINS', operand: this.stringOperand(this.advance()) };
      case '=':
        this.advance();
        if (this.kind() === 'string') return { key, position, op: '=', operand: this.stringOperand(this.advance()) };
        return { key, position, op: '=', operand: this.ordered(['string', 'number', 'DATE', 'TIME']) };
      case '<':
      case '<=':
      case '>':
      case '>=':
        this.advance();
        return { key, position, op: op.kind as CompareOperator, operand: this.ordered(['number', 'DATE', 'TIME']) };
      default:
        return this.unexpected(['=', '<', '<=', '>', '>=', 'CONTAINS', 'EXISTS']);
    }
  }

  private stringOperand(t: Token): StringOperand {
    return { type: 'string', value: t.text };
  }

  private ordered(expected: readonly string[]): Operand & OrderedOperand {
    const t = this.token;
    if (t.kind === 'number') {
      this.advance();
      return { type: 'number', text: t.text, value: parseDecimal(t.text)! };
    }
    if (t.kind === 'date' || t.kind === 'time') {
      this.advance();
      return { type: t.kind, text: t.text, nanos: t.nanos! };
    }
    return this.unexpected(expected);
  }
}

export interface ParseOptions {
  /** Longest query accepted, in UTF-16 code units; default MAX_QUERY_LENGTH. */
  readonly maxLength?: number;
}

/** Parse a query; throws QuerySyntaxError (and only that) on bad input. */
export function parseQuery(text: string, opts: ParseOptions = {}): Query {
  const maxLength = opts.maxLength ?? MAX_QUERY_LENGTH;
  if (text.length > maxLength) throw new QuerySyntaxError(`query is ${text.length} characters long, longer than the maximum ${maxLength}`, maxLength, [], 'more text');
  return new Parser(text).parse();
}
