import { w1Idle } from './w1-idle';
import { w2Ping } from './w2-ping';
import type { Workload } from './workload';

/** Every workload, in the order `npm run bench` runs them. */
export const WORKLOADS: Workload[] = [w1Idle, w2Ping];
