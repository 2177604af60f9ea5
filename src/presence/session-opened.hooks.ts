import { Injectable, Logger } from '@nestjs/common';
import type { LiveSession } from './live-session';

/** Work another module does when a session opens, after its `welcome` (e.g. notification replay). */
export type SessionOpenedHook = (session: LiveSession, after: number | null) => Promise<void>;

/**
 * Lets modules downstream of Presence react to new sessions without Presence depending on them:
 * Notifications registers its replay here, keeping the data flow one way.
 */
@Injectable()
export class SessionOpenedHooks {
  private readonly logger = new Logger(SessionOpenedHooks.name);
  private readonly hooks: SessionOpenedHook[] = [];

  register(hook: SessionOpenedHook): void {
    this.hooks.push(hook);
  }

  run(session: LiveSession, after: number | null): void {
    for (const hook of this.hooks) {
      hook(session, after).catch((error: unknown) =>
        this.logger.error(
          { err: error, sessionId: session.sessionId },
          'session-opened hook failed',
        ),
      );
    }
  }
}
