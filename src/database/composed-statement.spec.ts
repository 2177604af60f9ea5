import { Client } from 'pg';
import { testServerUrl } from '../../test/support/test-database';
import { ComposedStatement } from './composed-statement';

describe('ComposedStatement', () => {
  let client: Client;
  const runner = {
    query: async (sql: string, params: unknown[]) => (await client.query(sql, params)).rows,
  };
  const rowsOfTable = async () =>
    (await client.query<{ n: number }>('SELECT n FROM composed ORDER BY n')).rows.map((r) => r.n);

  beforeAll(async () => {
    client = new Client({ connectionString: testServerUrl() });
    await client.connect();
    await client.query('CREATE TEMP TABLE composed (n int PRIMARY KEY)');
  });
  afterAll(() => client.end());
  beforeEach(() => client.query('TRUNCATE composed'));

  it('binds values across parts, and a later part reads an earlier one through its handle', async () => {
    const statement = new ComposedStatement();
    const numbers = statement.with<{ n: number }>(
      'numbers',
      `SELECT n FROM unnest(${statement.bindEach([{ v: 1 }, { v: 2 }], (r) => r.v)}::int[]) AS n`,
    );
    const scaled = statement.with<{ m: number }>(
      'scaled',
      `SELECT ${numbers.column('source', 'n')} * ${statement.bind(10)}::int AS m
       FROM ${numbers.from('source')}`,
    );

    const result = await statement.run(runner, [scaled, numbers]);

    expect(result.rowsOf(numbers)).toEqual([{ n: 1 }, { n: 2 }]);
    expect(result.rowsOf(scaled)).toEqual([{ m: 10 }, { m: 20 }]);
  });

  it('runs every part, returned or not, and commits them together or not at all', async () => {
    const insert = (statement: ComposedStatement, name: string, values: number[]) =>
      statement.with<{ n: number }>(
        name,
        `INSERT INTO composed SELECT unnest(${statement.bind(values)}::int[]) RETURNING n`,
      );
    const first = new ComposedStatement();
    insert(first, 'quietly', [1]);
    const loudly = insert(first, 'loudly', [2]);
    expect((await first.run(runner, [loudly])).rowsOf(loudly)).toEqual([{ n: 2 }]);
    expect(await rowsOfTable()).toEqual([1, 2]);

    const second = new ComposedStatement();
    insert(second, 'fresh', [3]);
    insert(second, 'duplicate', [1]);
    await expect(second.run(runner, [])).rejects.toThrow(/duplicate key/);
    expect(await rowsOfTable()).toEqual([1, 2]);
  });

  it('returns no rows as an empty list', async () => {
    const statement = new ComposedStatement();
    const none = statement.with<{ n: number }>('none', 'SELECT 1 AS n WHERE false');
    expect((await statement.run(runner, [none])).rowsOf(none)).toEqual([]);
  });

  it('refuses a part name used twice, and the rows of a part it was not asked to return', async () => {
    const statement = new ComposedStatement();
    const returned = statement.with<{ n: number }>('returned', 'SELECT 1 AS n');
    const kept = statement.with<{ n: number }>('kept', 'SELECT 2 AS n');
    expect(() => statement.with('kept', 'SELECT 3')).toThrow('statement part kept added twice');

    const result = await statement.run(runner, [returned]);
    expect(() => result.rowsOf(kept)).toThrow('statement part kept was not returned');
  });

  it("lets the compiler check a part's columns", () => {
    const part = new ComposedStatement().with<{ id: string }>('typed', 'SELECT 1 AS id');
    expect(part.column('t', 'id')).toBe('t.id');
    // @ts-expect-error: the part has no such column (npm run lint type-checks this file).
    expect(part.column('t', 'missing')).toBe('t.missing');
  });
});
