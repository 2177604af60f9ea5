import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { MealLogView } from './meal-log.view';

export type MealLogOutcomeName = 'meal_log.completed' | 'meal_log.failed';

/** "A meal log finished": the typed contract MealLogs offers to whoever reacts to results. */
export interface MealLogOutcome {
  name: MealLogOutcomeName;
  userId: string;
  mealLog: MealLogView;
}

/**
 * Reacts to outcomes. `prepare` (optional) runs as a group's transaction begins, with the users
 * whose results it carries, and starts what does not depend on the transaction; what it returns
 * comes back to `onOutcomes`. `onOutcomes` runs inside the transaction that commits the results
 * (several at once: results are committed in groups), so what it writes commits or rolls back
 * with them; the function it may return runs once that transaction has committed.
 */
export interface MealLogOutcomeListener<Prepared = undefined> {
  prepare?(userIds: string[]): Prepared;
  onOutcomes(
    outcomes: MealLogOutcome[],
    manager: EntityManager,
    prepared: Prepared,
  ): Promise<(() => void) | void>;
}

/** What each listener prepared for one group, in listener order. */
export interface PreparedOutcomes {
  readonly prepared: unknown[];
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

  /** Call before the results' transaction, with the users whose results it may carry. */
  prepare(userIds: string[]): PreparedOutcomes {
    return { prepared: this.listeners.map((listener) => listener.prepare?.(userIds)) };
  }

  /** Call inside the results' transaction; call what it returns after the commit. */
  async publishInTransaction(
    outcomes: MealLogOutcome[],
    manager: EntityManager,
    { prepared }: PreparedOutcomes,
  ): Promise<() => void> {
    if (outcomes.length === 0) return () => undefined;
    const afterCommit: (() => void)[] = [];
    for (const [i, listener] of this.listeners.entries()) {
      const then = await listener.onOutcomes(outcomes, manager, prepared[i]);
      if (then) afterCommit.push(then);
    }
    return () => {
      // Pushes first: a log line is a write to stdout, and a group's lines would delay them.
      for (const then of afterCommit) then();
      for (const outcome of outcomes) {
        this.logger.log(
          { mealLogId: outcome.mealLog.id, userId: outcome.userId, status: outcome.mealLog.status },
          outcome.name,
        );
      }
    };
  }
}
