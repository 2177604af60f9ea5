import fc from 'fast-check';

/** Cases per property: bounded for CI (the suite runs three times), more with FUZZ_RUNS=… */
export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 100);

/** Values that broke services like this one before: limits, encodings, numbers, dates, SQL. */
const INTERESTING = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\u0007',
  '\u0085',
  '\ud800',
  '\udfff',
  '\ufe0f',
  '🍎',
  'a'.repeat(1000),
  `${'a'.repeat(1000)}\ufe0f`,
  '🍎'.repeat(1001),
  '-1',
  '0',
  '1e309',
  '1e-400',
  '9007199254740993',
  '99999999999999999999',
  '0x10',
  'NaN',
  'Infinity',
  '2026-02-30T10:00:00Z',
  '0000-01-01T00:00:00Z',
  '+275760-09-13T00:00:00.001Z',
  '2026-W01-1',
  '2026-01-01T10:00:00',
  "'; DROP TABLE meal_logs; --",
  '__proto__',
  'constructor',
  '../../etc/passwd',
  '%00',
  'null',
  'true',
];

/** Any string, weighted towards what breaks things; `header`: only what an HTTP header can carry. */
export function hostileString({ header = false }: { header?: boolean } = {}): fc.Arbitrary<string> {
  if (header) {
    // Tab, visible ASCII and Latin-1: Node's client refuses anything else in a header value.
    const unit = fc.oneof(
      fc.integer({ min: 0x20, max: 0x7e }),
      fc.integer({ min: 0xa0, max: 0xff }),
      fc.constant(0x09),
    );
    return fc.oneof(
      fc.string({ unit: unit.map((code) => String.fromCharCode(code)), maxLength: 300 }),
      fc.constantFrom(...INTERESTING.filter((value) => /^[\t\x20-\x7e]*$/.test(value))),
    );
  }
  return fc.oneof(
    fc.constantFrom(...INTERESTING),
    fc.string({ unit: 'binary', maxLength: 80 }),
    fc.string({ unit: 'grapheme', maxLength: 80 }),
    fc.string({ unit: fc.integer({ min: 0, max: 0x9f }).map((code) => String.fromCharCode(code)) }),
    fc.integer({ min: 990, max: 1010 }).map((length) => 'x'.repeat(length)),
    fc.double().map(String),
    fc.bigInt().map(String),
  );
}

/** Percent-encodes every byte of the string's UTF-8 (a lone surrogate becomes U+FFFD). */
function percentEncoded(value: string): string {
  return [...Buffer.from(value, 'utf8')]
    .map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`)
    .join('');
}

/** A path segment or query value, URL-ready: encoded text, or raw sequences no encoder writes. */
export function queryValue(): fc.Arbitrary<string> {
  return fc.oneof(
    hostileString().map(percentEncoded),
    fc.string({ unit: 'grapheme-ascii', maxLength: 40 }).map(encodeURIComponent),
    fc.constantFrom('%', '%ZZ', '%00', '%ED%A0%80', '%C0%AF', '..%2F..', '%2F', 'a%20b', '1%2C2'),
    fc.uuid().map(String),
    fc.date({ noInvalidDate: true }).map((date) => encodeURIComponent(date.toISOString())),
  );
}

/** An instant as clients write them, valid or nearly. */
function instantLike(): fc.Arbitrary<string> {
  return fc.oneof(
    fc
      .date({
        min: new Date('0001-01-01T00:00:00Z'),
        max: new Date('9999-12-31T23:59:59Z'),
        noInvalidDate: true,
      })
      .map((date) => date.toISOString()),
    fc.date({ noInvalidDate: true }).map((date) => date.toISOString().slice(0, 10)),
    hostileString(),
  );
}

/** A JSON request body: a meal log (valid or almost), any JSON, deep nesting, or not JSON at all. */
export function jsonBody(): fc.Arbitrary<string> {
  const text = fc.oneof(
    fc.constantFrom('1 small apple', '2 slices of toast with butter', 'a coffee'),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }),
    hostileString(),
  );
  const mealLog = fc.record(
    {
      text: fc.oneof(
        { weight: 4, arbitrary: text },
        { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
      ),
      mealType: fc.oneof(fc.constantFrom('breakfast', 'lunch', 'dinner', 'snack'), hostileString()),
      loggedAt: instantLike(),
      userId: hostileString(),
    },
    { requiredKeys: [] },
  );
  const validMealLog = fc.record(
    {
      text: fc.oneof(
        fc.constantFrom('1 small apple', '2 slices of toast with butter', 'a coffee'),
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }).filter((t) => t.trim() !== ''),
      ),
      mealType: fc.constantFrom('breakfast', 'lunch', 'dinner', 'snack'),
      loggedAt: fc
        .date({
          min: new Date('0001-01-01T00:00:00Z'),
          max: new Date('9999-12-31T23:59:59Z'),
          noInvalidDate: true,
        })
        .map((date) => date.toISOString()),
    },
    { requiredKeys: ['text'] },
  );
  return fc.oneof(
    { weight: 3, arbitrary: validMealLog.map((value) => JSON.stringify(value)) },
    { weight: 4, arbitrary: mealLog.map((value) => JSON.stringify(value)) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value)) },
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: 1, max: 8_000 })
        .map((depth) => `{"text": ${'['.repeat(depth)}${']'.repeat(depth)}}`),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 100 }) },
  );
}
