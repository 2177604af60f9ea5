import { w1Idle } from './w1-idle';
import { w2Ping } from './w2-ping';
import { w4Rest } from './w4-rest';
import { w5Reconnect } from './w5-reconnect';
import type { Workload } from './workload';

/** Every workload, in the order `npm run bench` runs them. */
export const WORKLOADS: Workload[] = [w1Idle, w2Ping, w4Rest, w5Reconnect];
