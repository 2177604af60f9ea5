import { Injectable } from '@nestjs/common';
import type { PresenceChange } from './presence-change';

export type PresenceChangeListener = (change: PresenceChange) => void;

/**
 * This instance's presence changes, for whoever watches them (the admin console's stream). With
 * nobody watching, a change costs one size check: a reconnect storm opens 19,000 sessions.
 */
@Injectable()
export class PresenceChanges {
  private readonly listeners = new Set<PresenceChangeListener>();

  get watched(): boolean {
    return this.listeners.size > 0;
  }

  /** Calls `listener` with every change from now on; returns what stops it. */
  watch(listener: PresenceChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Builds the change only when someone watches. */
  emit(change: () => PresenceChange): void {
    if (this.listeners.size === 0) return;
    const built = change();
    for (const listener of this.listeners) listener(built);
  }
}
