import { Injectable, Logger } from '@nestjs/common';
import type {
  ComposedStatement,
  StatementPart,
  StatementResult,
} from '../database/composed-statement';
import type { MealLogView } from './meal-log.view';

export const MEAL_LOG_OUTCOME_NAMES = ['meal_log.completed', 'meal_log.failed'] as const;
export type MealLogOutcomeName = (typeof MEAL_LOG_OUTCOME_NAMES)[number];

/** "A meal log finished": the typed contract MealLogs offers to whoever reacts to results. */
export interface MealLogOutcome {
  name: MealLogOutcomeName;
  userId: string;
  mealLog: MealLogView;
}

/** A row of the part that lists the meal logs a group's statement records. */
export interface RecordedMealLog {
  id: string;
}

/**
 * A group of results on its way to PostgreSQL in one statement, as a listener may extend it:
 * what the listener writes in `statement` commits with the results, or neither does.
 */
export interface OutcomeGroup {
  readonly statement: ComposedStatement;
  /** In the order the results came, which for each user is the order of their logs. */
  readonly outcomes: readonly MealLogOutcome[];
  /**
   * The meal logs the statement records: a result whose attempt no longer held its job, or
   * whose log was already finished, is not among them, and nothing may be derived from it.
   */
  readonly recorded: StatementPart<RecordedMealLog>;
}

/** What a listener added to a group's statement, and what it does once that has committed. */
export interface OutcomeWrite<Row extends object> {
  /** The listener's part whose rows `committed` reads. */
  readonly part: StatementPart<Row>;
  /** Called once the statement committed, with the rows of `part`. */
  committed(rows: Row[]): void;
}

/**
 * Reacts to outcomes, in the statement that records them. `prepare` runs before the statement
 * has a connection, for what the writes need to know but do not change (a lookup); `writeWith`
 * then adds the listener's writes to the group's statement, reading from `group.recorded` only
 * the logs it actually records.
 */
export interface MealLogOutcomeListener<Context, Row extends object> {
  prepare(userIds: string[]): Promise<Context>;
  writeWith(group: OutcomeGroup, context: Context): OutcomeWrite<Row>;
}

/** The listeners' writes for one group, each bound to what it prepared. */
export interface PreparedOutcomes {
  writeWith(group: OutcomeGroup): OutcomeWrites;
}

/** What the listeners added to one group's statement. */
export interface OutcomeWrites {
  /** The parts the statement must return for `committed`. */
  readonly parts: readonly StatementPart<object>[];
  /** Once the statement committed: its result, and the ids of the logs it recorded. */
  committed(result: StatementResult, recorded: ReadonlySet<string>): void;
}

/** One listener, prepared: its writes for the group, and the after-commit bound to its rows. */
type BoundWrite = (group: OutcomeGroup) => {
  part: StatementPart<object>;
  committed(result: StatementResult): void;
};

/**
 * Announces finished meal logs to listeners registered by downstream modules (Notifications), so
 * MealLogs depends on none of them and data flows one way.
 */
@Injectable()
export class MealLogOutcomePublisher {
  private readonly logger = new Logger('MealLogOutcome');
  private readonly listeners: ((userIds: string[]) => Promise<BoundWrite>)[] = [];

  subscribe<Context, Row extends object>(listener: MealLogOutcomeListener<Context, Row>): void {
    this.listeners.push(async (userIds) => {
      const context = await listener.prepare(userIds);
      return (group) => {
        const write = listener.writeWith(group, context);
        return {
          part: write.part,
          committed: (result) => write.committed(result.rowsOf(write.part)),
        };
      };
    });
  }

  /** Call before building the results' statement, with the users whose results it carries. */
  async prepare(userIds: string[]): Promise<PreparedOutcomes> {
    const bound = await Promise.all(this.listeners.map((prepare) => prepare(userIds)));
    return { writeWith: (group) => this.writeWith(group, bound) };
  }

  private writeWith(group: OutcomeGroup, bound: BoundWrite[]): OutcomeWrites {
    const writes = bound.map((write) => write(group));
    return {
      parts: writes.map((write) => write.part),
      committed: (result, recorded) => {
        // Pushes first: a log line is a write to stdout, and a group's lines would delay them.
        for (const write of writes) write.committed(result);
        for (const outcome of group.outcomes) {
          if (!recorded.has(outcome.mealLog.id)) continue;
          this.logger.log(
            {
              mealLogId: outcome.mealLog.id,
              userId: outcome.userId,
              status: outcome.mealLog.status,
            },
            outcome.name,
          );
        }
      },
    };
  }
}
