import type { DataSource } from 'typeorm';

/**
 * One SQL statement assembled from parts that different repositories own: each part is a common
 * table expression (usually a data-modifying one) that binds its own parameters and may read the
 * parts added before it. A statement is atomic on its own, so writes to several tables commit
 * together in a single round trip, without a transaction's BEGIN and COMMIT around them.
 */
export class ComposedStatement {
  private readonly parts: string[] = [];
  private readonly params: unknown[] = [];

  /** The placeholder (`$n`) that stands for `value` in a part's SQL. */
  bind(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  /** Adds `name AS (sql)` and returns `name`, for later parts (and `collect`) to read. */
  with(name: string, sql: string): string {
    if (this.parts.some((part) => part.startsWith(`${name} AS (`)))
      throw new Error(`statement part ${name} added twice`);
    this.parts.push(`${name} AS (${sql})`);
    return name;
  }

  /**
   * Runs the statement and returns the rows of each of `parts`, in order, as JSON objects (one
   * property per column). Every part runs whether or not it is collected.
   */
  async collect(dataSource: DataSource, parts: string[]): Promise<unknown[][]> {
    const collected = parts.map(
      (part) => `(SELECT COALESCE(json_agg(${part}), '[]') FROM ${part})`,
    );
    const [row] = await dataSource.query<{ parts: unknown[][] }[]>(
      `WITH ${this.parts.join(',\n')}\nSELECT json_build_array(${collected.join(', ')}) AS parts`,
      this.params,
    );
    return row.parts;
  }
}
