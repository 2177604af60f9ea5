/** Where a statement runs: a query runner (one connection), or the data source (any). */
interface Queryable {
  query(sql: string, params: unknown[]): Promise<unknown>;
}

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

  /** The placeholder of an array holding `value` of each of `rows` (for `unnest`). */
  bindEach<T>(rows: readonly T[], value: (row: T) => unknown): string {
    return this.bind(rows.map(value));
  }

  /** Adds `name AS (sql)` and returns `name`, for later parts (and `collect`) to read. */
  with(name: string, sql: string): string {
    if (this.parts.some((part) => part.startsWith(`${name} AS (`)))
      throw new Error(`statement part ${name} added twice`);
    this.parts.push(`${name} AS (${sql})`);
    return name;
  }

  /**
   * Runs the statement on `runner` and returns the rows of each of `parts`, in order, as JSON
   * objects (one property per column). Every part runs whether or not it is collected.
   */
  async collect(runner: Queryable, parts: string[]): Promise<unknown[][]> {
    const collected = parts.map(
      (part) => `(SELECT COALESCE(json_agg(part_row), '[]') FROM ${part} AS part_row)`,
    );
    const [row] = (await runner.query(
      `WITH ${this.parts.join(',\n')}\nSELECT json_build_array(${collected.join(', ')}) AS parts`,
      this.params,
    )) as { parts: unknown[][] }[];
    return row.parts;
  }
}
