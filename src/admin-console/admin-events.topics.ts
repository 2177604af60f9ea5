import type { ClusterTopic } from '../cluster/cluster-topic';
import { isObjectOf, isString } from '../common/shape';
import { isPresenceChanges, PresenceChange } from '../presence/presence-change';

/** An instance has admins watching: the others relay their presence changes for a while. */
export interface AdminWatchMessage {
  instanceId: string;
}

export const ADMIN_WATCH_TOPIC: ClusterTopic<AdminWatchMessage> = {
  name: 'admin_watch',
  accepts: isObjectOf<AdminWatchMessage>({ instanceId: isString }),
};

/** One instance's presence changes of the last moment, for the admins watching elsewhere. */
export interface PresenceChangesMessage {
  changes: PresenceChange[];
}

export const PRESENCE_CHANGES_TOPIC: ClusterTopic<PresenceChangesMessage> = {
  name: 'presence_changes',
  accepts: isObjectOf<PresenceChangesMessage>({ changes: isPresenceChanges }),
};
