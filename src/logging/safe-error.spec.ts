import { errorFields, safeError } from './safe-error';

/** A failure as TypeORM reports a statement PostgreSQL refused: it carries the statement and its data. */
function refusedStatement(): Error {
  return Object.assign(new Error('invalid input syntax for type uuid: "1 small apple"'), {
    name: 'QueryFailedError',
    code: '22P02',
    query: 'INSERT INTO meal_logs (text) VALUES ($1)',
    parameters: ['1 small apple', 'eyJhbGciOiJIUzI1NiJ9.secret'],
    detail: 'Failing row contains (1 small apple).',
  });
}

describe('errorFields', () => {
  it.each([
    [
      'a refused row',
      Object.assign(new Error('violates check constraint "c" (quoting secret text)'), {
        code: '23514',
        constraint: 'c',
      }),
      { error: 'Error', code: '23514', constraint: 'c' },
    ],
    [
      'an outage',
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      { error: 'Error', code: 'ECONNREFUSED' },
    ],
    [
      'a Redis refusal',
      new Error('WRONGTYPE Operation against a key'),
      { error: 'Error', code: 'WRONGTYPE' },
    ],
    [
      'a programming error',
      new TypeError('x is not a function'),
      { error: 'TypeError', message: 'x is not a function' },
    ],
    [
      'a statement TypeORM reports',
      refusedStatement(),
      { error: 'QueryFailedError', code: '22P02' },
    ],
    ['not an error', 'a string', { error: 'string' }],
  ])('%s', (_case, error, expected) => {
    expect(JSON.parse(JSON.stringify(errorFields(error)))).toEqual(expected);
  });
});

describe('safeError', () => {
  it('keeps the type, code and stack frames of a refused statement, never its text or data', () => {
    const logged = JSON.stringify(safeError(refusedStatement()));
    expect(JSON.parse(logged)).toMatchObject({
      type: 'QueryFailedError',
      code: '22P02',
      stack: expect.arrayContaining([expect.stringMatching(/^at /)]),
    });
    for (const secret of ['apple', 'eyJhbGci', 'INSERT', 'Failing row']) {
      expect(logged).not.toContain(secret);
    }
  });

  it('follows the cause with the same rule', () => {
    const error = new Error('meal analysis failed for "1 small apple"', {
      cause: refusedStatement(),
    });
    const logged = JSON.stringify(safeError(error));
    expect(JSON.parse(logged)).toMatchObject({ type: 'Error', cause: { code: '22P02' } });
    expect(logged).not.toContain('apple');
  });

  it('reads an error pino has already turned into a plain object the same way', () => {
    const error = refusedStatement();
    const plain = { ...error, type: error.name, message: error.message, stack: error.stack };
    const logged = JSON.stringify(safeError(plain));
    expect(JSON.parse(logged)).toMatchObject({ type: 'QueryFailedError', code: '22P02' });
    for (const secret of ['apple', 'eyJhbGci', 'INSERT', 'Failing row']) {
      expect(logged).not.toContain(secret);
    }
  });
});
