import { Client } from 'pg';
import { testServerUrl } from '../../test/support/test-database';
import { ComposedStatement } from './composed-statement';

/**
 * Runs the statements on the test server's PostgreSQL (no table of the app needed), so what is
 * checked is what they do, not how their text is laid out; `sent` counts the round trips.
 */
describe('ComposedStatement', () => {
  let client: Client;
  let sent: string[];
  const database = {
    async query(sql: string, params: unknown[]): Promise<unknown[]> {
      sent.push(sql);
      return (await client.query(sql, params)).rows;
    },
  };

  beforeAll(async () => {
    client = new Client({ connectionString: testServerUrl() });
    await client.connect();
  });
  beforeEach(() => {
    sent = [];
  });
  afterAll(() => client.end());

  it('binds each value to the part that uses it, across parts, in one statement', async () => {
    const statement = new ComposedStatement();
    const first = statement.with('first', `SELECT ${statement.bind('a')}::text AS x`);
    const rows = [{ id: 1 }, { id: 2 }];
    const second = statement.with(
      'second',
      `SELECT x, id FROM ${first}, unnest(${statement.bindEach(rows, (r) => r.id)}::int[]) AS id`,
    );

    expect(await statement.collect(database, [first, second])).toEqual([
      [{ x: 'a' }],
      [
        { x: 'a', id: 1 },
        { x: 'a', id: 2 },
      ],
    ]);
    expect(sent).toHaveLength(1);
  });

  it("returns each collected part's rows, in the order asked for, none as []", async () => {
    const statement = new ComposedStatement();
    const a = statement.with('a', 'SELECT 1 AS n');
    const b = statement.with('b', 'SELECT 2 AS n UNION ALL SELECT 3');
    const none = statement.with('none', 'SELECT 4 AS n WHERE false');

    expect(await statement.collect(database, [b, none, a])).toEqual([
      [{ n: 2 }, { n: 3 }],
      [],
      [{ n: 1 }],
    ]);
  });

  it('runs a part that is not collected', async () => {
    await client.query('CREATE TEMP TABLE written (n int)');
    const statement = new ComposedStatement();
    statement.with('write', `INSERT INTO written VALUES (${statement.bind(7)}) RETURNING n`);
    const read = statement.with('read', 'SELECT 1 AS n');

    expect(await statement.collect(database, [read])).toEqual([[{ n: 1 }]]);
    expect((await client.query('SELECT n FROM written')).rows).toEqual([{ n: 7 }]);
  });

  it('refuses a part name used twice', () => {
    const statement = new ComposedStatement();
    statement.with('part', 'SELECT 1');
    expect(() => statement.with('part', 'SELECT 2')).toThrow('statement part part added twice');
  });
});
