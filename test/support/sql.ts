import { Client } from 'pg';
import type { DataSource } from 'typeorm';

/** One query on a connection of its own: for a database whose app runs in another process. */
export async function queryOnce<T extends object>(
  databaseUrl: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** A statement as it was sent: its SQL and parameters. */
export interface SentStatement {
  sql: string;
  params: unknown[];
}

/** Every statement run through `dataSource`, on any of its connections, while `fn` runs. */
export async function statementsDuring(
  dataSource: DataSource,
  fn: () => Promise<unknown>,
): Promise<SentStatement[]> {
  const statements: SentStatement[] = [];
  const create = dataSource.createQueryRunner.bind(dataSource);
  const spy = jest.spyOn(dataSource, 'createQueryRunner').mockImplementation((mode) => {
    const runner = create(mode);
    const query = runner.query.bind(runner) as (
      sql: string,
      params?: unknown[],
      ...rest: unknown[]
    ) => Promise<unknown>;
    runner.query = ((sql: string, params: unknown[] = [], ...rest: unknown[]) => {
      statements.push({ sql, params });
      return query(sql, params, ...rest);
    }) as typeof runner.query;
    return runner;
  });
  try {
    await fn();
  } finally {
    spy.mockRestore();
  }
  return statements;
}
