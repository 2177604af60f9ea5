/** Where a statement runs: a query runner (one connection), or the data source (any). */
interface Queryable {
  query(sql: string, params: unknown[]): Promise<unknown>;
}

/**
 * One part of a ComposedStatement: a common table expression whose rows are `Row`. Repositories
 * hand parts to each other as these handles, never as names or column strings: a later part reads
 * this one through `from` and `column`, whose column names the compiler checks against `Row`, and
 * the rows come back typed from `StatementResult.rowsOf`. `Row` is what the part's SQL returns, as
 * JSON (timestamps as ISO strings); the repository that writes the SQL declares it.
 */
export class StatementPart<Row extends object> {
  /** @internal Made by `ComposedStatement.with`. */
  constructor(readonly name: string) {}

  /** `<name> AS <alias>`, for a FROM or JOIN that reads this part's rows. */
  from(alias: string): string {
    return `${this.name} AS ${alias}`;
  }

  /** `<alias>.<column>`: a column of this part's rows, read under `alias` (see `from`). */
  column(alias: string, column: keyof Row & string): string {
    return `${alias}.${column}`;
  }

  /** Phantom: keeps `Row` part of the type, so parts of different rows do not mix. */
  declare private readonly row: Row;
}

/** The rows of the parts a statement was asked to return, once it has run. */
export class StatementResult {
  /** @internal Made by `ComposedStatement.run`. */
  constructor(private readonly rows: ReadonlyMap<string, object[]>) {}

  /** The rows of `part`, which must be one of the parts `run` was asked to return. */
  rowsOf<Row extends object>(part: StatementPart<Row>): Row[] {
    const rows = this.rows.get(part.name);
    if (rows === undefined) throw new Error(`statement part ${part.name} was not returned`);
    return rows as Row[];
  }
}

/**
 * One SQL statement assembled from parts that different repositories own: each part is a common
 * table expression (usually a data-modifying one) that binds its own parameters and may read the
 * parts added before it. A statement is atomic on its own, so writes to several tables commit
 * together in a single round trip, without a transaction's BEGIN and COMMIT around them.
 */
export class ComposedStatement {
  private readonly parts: string[] = [];
  private readonly names = new Set<string>();
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

  /**
   * Adds `name AS (sql)`, whose rows are `Row`, for later parts (and `run`) to read. The name is
   * the adding repository's own; a name added twice is a programming error, refused at once.
   */
  with<Row extends object = Record<never, never>>(name: string, sql: string): StatementPart<Row> {
    if (this.names.has(name)) throw new Error(`statement part ${name} added twice`);
    this.names.add(name);
    this.parts.push(`${name} AS (${sql})`);
    return new StatementPart<Row>(name);
  }

  /**
   * Runs the statement on `runner` and returns the rows of each of `returned` (read them with
   * `rowsOf`). Every part runs whether or not it is returned.
   */
  async run(
    runner: Queryable,
    returned: readonly StatementPart<object>[],
  ): Promise<StatementResult> {
    const collected = returned.map(
      (part) => `(SELECT COALESCE(json_agg(part_row), '[]') FROM ${part.from('part_row')})`,
    );
    const [row] = (await runner.query(
      `WITH ${this.parts.join(',\n')}\nSELECT json_build_array(${collected.join(', ')}) AS parts`,
      this.params,
    )) as { parts: object[][] }[];
    return new StatementResult(new Map(returned.map((part, i) => [part.name, row.parts[i]])));
  }
}
