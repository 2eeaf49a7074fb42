import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatQuery, MAX_QUERY_LENGTH, parseQuery, QuerySyntaxError, type Condition } from '../../src/query/index.js';

const conds = (text: string): readonly Condition[] => parseQuery(text).conditions;

function syntaxError(text: string): QuerySyntaxError {
  try {
    parseQuery(text);
  } catch (e) {
    if (e instanceof QuerySyntaxError) return e;
    throw e;
  }
  throw new Error(`expected a syntax error for: ${text}`);
}

describe('query parser: accepted queries', () => {
  it('parses a string equality', () => {
    expect(conds("tm.event='NewBlock'")).toEqual([{ key: 'tm.event', position: 0, op: '=', operand: { type: 'string', value: 'NewBlock' } }]);
  });

  it('parses numbers (integers and decimals) into exact decimals', () => {
    expect(conds('tx.height=5')).toEqual([
      { key: 'tx.height', position: 0, op: '=', operand: { type: 'number', text: '5', value: { negative: false, integer: '5', fraction: '' } } },
    ]);
    const [c] = conds('validator.power <= 0010.500');
    expect(c).toMatchObject({ op: '<=', operand: { type: 'number', text: '0010.500', value: { integer: '10', fraction: '5' } } });
    expect(conds('a.b > 0')[0]).toMatchObject({ operand: { value: { integer: '', fraction: '' } } });
  });

  it('parses every operator', () => {
    const q = conds("a.b = 1 AND a.b < 2 AND a.b <= 3 AND a.b > 4 AND a.b >= 5 AND a.c CONTAINS 'x' AND a.d EXISTS");
    expect(q.map((c) => c.op)).toEqual(['=', '<', '<=', '>', '>=', 'CONTAINS', 'EXISTS']);
    expect(q.map((c) => c.position)).toEqual([0, 12, 24, 37, 49, 62, 83]);
  });

  it('parses DATE and TIME literals to instants', () => {
    expect(conds('block.date >= DATE 2013-05-03')[0]).toEqual({
      key: 'block.date',
      position: 0,
      op: '>=',
      operand: { type: 'date', text: '2013-05-03', nanos: 1367539200n * 1_000_000_000n },
    });
    expect(conds('tx.time < TIME 2013-05-03T14:45:00Z')[0]).toMatchObject({ operand: { type: 'time', text: '2013-05-03T14:45:00Z', nanos: 1367592300n * 1_000_000_000n } });
    // An offset moves the instant; fractions are kept to the nanosecond.
    expect(conds('t.t = TIME 2013-05-03T16:45:00.000000001+02:00')[0]).toMatchObject({ operand: { nanos: 1367592300n * 1_000_000_000n + 1n } });
  });

  it('needs no spaces between tokens, and accepts any whitespace between them', () => {
    expect(formatQuery(parseQuery("a.b='x'AND c.d>=2"))).toBe("a.b = 'x' AND c.d >= 2");
    expect(formatQuery(parseQuery("\t a.b \n=\r 'x y'  AND  c.d  EXISTS "))).toBe("a.b = 'x y' AND c.d EXISTS");
  });

  it('takes keys of letters, digits, _ and ., including non-ASCII letters', () => {
    expect(conds('_a.B_9.c EXISTS')[0]!.key).toBe('_a.B_9.c');
    expect(conds("счёт.владелец = 'Иван'")[0]).toMatchObject({ key: 'счёт.владелец', operand: { value: 'Иван' } });
    expect(conds('𝒳.y EXISTS')[0]!.key).toBe('𝒳.y');
  });

  it('keeps string contents verbatim (no escapes), including quotes of the other kind and operators', () => {
    expect(conds(`a.b = 'x "AND" c=d \\ /'`)[0]).toMatchObject({ operand: { type: 'string', value: 'x "AND" c=d \\ /' } });
    expect(conds("a.b = ''")[0]).toMatchObject({ operand: { type: 'string', value: '' } });
  });

  it('treats DATE and TIME as keys unless a space follows (as CometBFT does)', () => {
    expect(conds("DATE='x' AND TIME>=5").map((c) => c.key)).toEqual(['DATE', 'TIME']);
    expect(syntaxError('TIME EXISTS').message).toMatch(/invalid TIME value/);
  });

  it('round-trips through formatQuery', () => {
    for (const text of [
      "tm.event = 'Tx' AND transfer.sender = 'cosmos1xyz' AND tx.height > 5",
      'a.b <= 3.25 AND c.d >= DATE 2020-02-29 AND e.f < TIME 2021-11-23T22:04:19-09:00',
      "x.y CONTAINS 'abc' AND z EXISTS",
    ]) {
      expect(formatQuery(parseQuery(text))).toBe(text);
      expect(parseQuery(formatQuery(parseQuery(text)))).toEqual(parseQuery(text));
    }
  });
});

describe('query parser: rejected queries', () => {
  const cases: [string, number, RegExp][] = [
    ['', 0, /expected key, found end of query/],
    ['   ', 3, /expected key, found end of query/],
    ['tm.event', 8, /expected =, <, <=, >, >=, CONTAINS or EXISTS, found end of query/],
    ["tm.event 'x'", 9, /expected =, .* found string 'x'/],
    ['tm.event =', 10, /expected string, number, DATE or TIME, found end of query/],
    ["a.b < 'x'", 6, /expected number, DATE or TIME, found string 'x'/],
    ['a.b CONTAINS 5', 13, /expected string, found number 5/],
    ["a.b = 'x' OR c.d = 'y'", 10, /expected AND or end of query, found key "OR"/],
    ["a.b = 'x' AND", 13, /expected key, found end of query/],
    ["a.b = 'x' and c.d = 'y'", 10, /expected AND or end of query, found key "and"/],
    ["a.b = 'unterminated", 6, /unterminated string/],
    ['a.b = 5.', 8, /invalid number "5\.": expected a digit after '\.'/],
    ['a.b = 5abc', 7, /invalid number "5a": unexpected 'a'/],
    ['a.b = 1.2.3', 9, /invalid number/],
    ['5 = 1', 0, /expected key, found number 5/],
    ['5.a = 1', 2, /invalid number "5\.": expected a digit/],
    ['a.b == 1', 5, /expected string, number, DATE or TIME, found =/],
    ['a.b != 1', 4, /unexpected character '!'/],
    ["(a.b = 'x')", 0, /unexpected character '\('/],
    ['a.b = DATE 2013-5-3', 11, /invalid DATE value "2013-5-3"/],
    ['a.b = DATE 2013-02-30', 11, /not a calendar date|calendar date/],
    ['a.b = DATE 1899-12-31', 11, /DATE year 1899 out of range/],
    ['a.b = TIME 2013-05-03', 11, /invalid TIME value "2013-05-03"/],
    ['a.b = TIME 2013-05-03T25:00:00Z', 11, /invalid TIME value/],
    ['a.b = TIME 2013-05-03T14:45:00', 11, /invalid TIME value/],
    ['a.b = TIME 3000-01-01T00:00:00Z', 11, /TIME year 3000 out of range/],
    ['a.b = TIME ', 11, /invalid TIME value "": .* found end of query|invalid TIME value ""/],
    ['a.b EXISTS c.d EXISTS', 11, /expected AND or end of query, found key "c.d"/],
    ['AND EXISTS', 0, /expected key, found AND/],
  ];

  it.each(cases)('%j → error at offset %i', (text, position, message) => {
    const e = syntaxError(text);
    expect(e.position).toBe(position);
    expect(e.message).toMatch(message);
    expect(e.message).toMatch(new RegExp(`^query syntax error at offset ${position}: `));
  });

  it('says what it expected and what it found', () => {
    const e = syntaxError('a.b');
    expect(e.expected).toEqual(['=', '<', '<=', '>', '>=', 'CONTAINS', 'EXISTS']);
    expect(e.found).toBe('end of query');
  });

  it(`refuses queries longer than ${MAX_QUERY_LENGTH} characters (CometBFT's RPC limit), unless told otherwise`, () => {
    const long = `a.b = '${'x'.repeat(MAX_QUERY_LENGTH)}'`;
    expect(syntaxError(long).message).toMatch(/longer than the maximum 512/);
    expect(parseQuery(long, { maxLength: 10_000 }).conditions).toHaveLength(1);
  });

  it('bounds the number of conditions', () => {
    const many = Array.from({ length: 65 }, (_, i) => `k${i} EXISTS`).join(' AND ');
    const e = (() => {
      try {
        parseQuery(many, { maxLength: 10_000 });
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(QuerySyntaxError);
    expect((e as QuerySyntaxError).message).toMatch(/too many conditions \(at most 64\)/);
  });
});

describe('query parser: fuzz', () => {
  const alphabet = "ab.c_= <>'!()0123456789-:TZ+ANDEXISTSCONTAINSDATETIME\t\n\u00e9\ud835\udcb3";
  const tokens = ['a.b', 'tx.height', ' ', '=', '<', '<=', '>', '>=', ' AND ', ' CONTAINS ', ' EXISTS', "'v'", "'", '5', '3.25', '.', 'DATE ', 'TIME ', '2013-05-03', 'T14:45:00Z', '+02:00', '(', ')', '\ud800'];

  function onlyTypedErrors(text: string): void {
    try {
      const q = parseQuery(text, { maxLength: 4096 });
      // Whatever parses prints to text that parses to the same query.
      expect(parseQuery(formatQuery(q), { maxLength: 8192 })).toEqual(q);
    } catch (e) {
      if (!(e instanceof QuerySyntaxError)) throw e;
      expect(e.position).toBeGreaterThanOrEqual(0);
      expect(e.position).toBeLessThanOrEqual(text.length);
    }
  }

  it('never throws anything but QuerySyntaxError on random strings', () => {
    fc.assert(fc.property(fc.string({ maxLength: 80 }), onlyTypedErrors), { seed: 0x7a11, numRuns: 3000 });
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...alphabet.split('')), maxLength: 60 }), onlyTypedErrors),
      { seed: 0x7a12, numRuns: 3000 },
    );
  });

  it('never throws anything but QuerySyntaxError on token soup', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...tokens), { maxLength: 16 }), (parts) => onlyTypedErrors(parts.join(''))),
      { seed: 0x7a13, numRuns: 5000 },
    );
  });
});
