import type { ClusterTopic } from '../cluster/cluster-topic';
import { isObjectOf, isOneOf, isString } from '../common/shape';

/** A newer session of the same device opened on another instance: end this one. */
export interface EndSessionMessage {
  sessionId: string;
  reason: 'replaced';
}

export const END_SESSION_TOPIC: ClusterTopic<EndSessionMessage> = {
  name: 'end_session',
  accepts: isObjectOf<EndSessionMessage>({
    sessionId: isString,
    reason: isOneOf(['replaced'] as const),
  }),
};
