import { ComposedStatement } from './composed-statement';

/** Records the statement instead of running it (the e2e tests run the real ones). */
function recorder(rows: unknown[][]) {
  const sent: { sql: string; params: unknown[] }[] = [];
  return {
    sent,
    query(sql: string, params: unknown[]) {
      sent.push({ sql, params });
      return Promise.resolve([{ parts: rows }]);
    },
  };
}

describe('ComposedStatement', () => {
  it('numbers placeholders in the order values are bound, across parts', async () => {
    const statement = new ComposedStatement();
    const first = statement.with('first', `SELECT ${statement.bind('a')} AS x`);
    const rows = [{ id: 1 }, { id: 2 }];
    const second = statement.with(
      'second',
      `SELECT * FROM ${first}, unnest(${statement.bindEach(rows, (r) => r.id)}::int[])`,
    );
    const db = recorder([[], []]);
    await statement.collect(db, [first, second]);

    expect(db.sent).toHaveLength(1);
    expect(db.sent[0].params).toEqual(['a', [1, 2]]);
    expect(db.sent[0].sql).toContain(
      'WITH first AS (SELECT $1 AS x),\nsecond AS (SELECT * FROM first, unnest($2::int[]))',
    );
  });

  it("returns each collected part's rows, in the order asked for", async () => {
    const statement = new ComposedStatement();
    const a = statement.with('a', 'SELECT 1 AS n');
    const b = statement.with('b', 'SELECT 2 AS n');
    const db = recorder([[{ n: 2 }], [{ n: 1 }]]);

    expect(await statement.collect(db, [b, a])).toEqual([[{ n: 2 }], [{ n: 1 }]]);
    expect(db.sent[0].sql).toMatch(
      /json_build_array\(\(SELECT .* FROM b AS part_row\), \(SELECT .* FROM a AS part_row\)\)/,
    );
  });

  it('refuses a part name used twice', () => {
    const statement = new ComposedStatement();
    statement.with('part', 'SELECT 1');
    expect(() => statement.with('part', 'SELECT 2')).toThrow('statement part part added twice');
  });
});
