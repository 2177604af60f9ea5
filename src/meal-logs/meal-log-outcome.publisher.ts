import { Injectable, Logger } from '@nestjs/common';
import type { ComposedStatement } from '../database/composed-statement';
import type { MealLogView } from './meal-log.view';

export const MEAL_LOG_OUTCOME_NAMES = ['meal_log.completed', 'meal_log.failed'] as const;
export type MealLogOutcomeName = (typeof MEAL_LOG_OUTCOME_NAMES)[number];

/** "A meal log finished": the typed contract MealLogs offers to whoever reacts to results. */
export interface MealLogOutcome {
  name: MealLogOutcomeName;
  userId: string;
  mealLog: MealLogView;
}

/** What a listener added to a group's statement, and what it does once that has committed. */
export interface OutcomeWrite {
  /** The statement part whose rows come back to `committed`. */
  part: string;
  /** Called with the part's rows (JSON objects) after the statement committed. */
  committed(rows: unknown[]): void;
}

/**
 * Reacts to outcomes. `prepare` runs first, with the users whose results a group carries, for
 * what the writes need and does not depend on them (a lookup). `writeWith` adds the listener's
 * writes to the statement that records the group's results, reading the ids of the meal logs it
 * actually records from the part `recorded` (`id`): they commit together or not at all.
 */
export interface MealLogOutcomeListener<Prepared> {
  prepare(userIds: string[]): Promise<Prepared>;
  writeWith(
    statement: ComposedStatement,
    outcomes: MealLogOutcome[],
    recorded: string,
    prepared: Prepared,
  ): OutcomeWrite;
}

/** What each listener prepared for one group, in listener order. */
export interface PreparedOutcomes {
  readonly prepared: unknown[];
}

/** What the listeners added to one group's statement. */
export interface OutcomeWrites {
  /** The parts whose rows `committed` needs, in order. */
  readonly parts: string[];
  /** Once the statement committed: the rows of `parts`, and the ids of the logs it recorded. */
  committed(rows: unknown[][], recorded: ReadonlySet<string>): void;
}

/**
 * Announces finished meal logs to listeners registered by downstream modules (Notifications), so
 * MealLogs depends on none of them and data flows one way.
 */
@Injectable()
export class MealLogOutcomePublisher {
  private readonly logger = new Logger('MealLogOutcome');
  private readonly listeners: MealLogOutcomeListener<unknown>[] = [];

  subscribe<Prepared>(listener: MealLogOutcomeListener<Prepared>): void {
    this.listeners.push(listener);
  }

  /** Call before building the results' statement, with the users whose results it carries. */
  async prepare(userIds: string[]): Promise<PreparedOutcomes> {
    return {
      prepared: await Promise.all(this.listeners.map((listener) => listener.prepare(userIds))),
    };
  }

  /** Adds the listeners' writes to the results' statement; call `committed` once it has run. */
  writeWith(
    statement: ComposedStatement,
    outcomes: MealLogOutcome[],
    recorded: string,
    { prepared }: PreparedOutcomes,
  ): OutcomeWrites {
    const writes = this.listeners.map((listener, i) =>
      listener.writeWith(statement, outcomes, recorded, prepared[i]),
    );
    return {
      parts: writes.map((write) => write.part),
      committed: (rows, recordedIds) => {
        // Pushes first: a log line is a write to stdout, and a group's lines would delay them.
        writes.forEach((write, i) => write.committed(rows[i]));
        for (const outcome of outcomes) {
          if (!recordedIds.has(outcome.mealLog.id)) continue;
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
