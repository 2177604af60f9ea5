import { w1Idle } from './w1-idle';
import { w2Ping } from './w2-ping';
import { w3Notify } from './w3-notify';
import { w4Rest } from './w4-rest';
import { w5Reconnect } from './w5-reconnect';
import { w6Sweep } from './w6-sweep';
import { w7Cluster } from './w7-cluster';
import { w8Push } from './w8-push';
import type { Workload } from './workload';

/** Every workload, in the order `npm run bench` runs them. */
export const WORKLOADS: Workload[] = [
  w1Idle,
  w2Ping,
  w3Notify,
  w4Rest,
  w5Reconnect,
  w6Sweep,
  w7Cluster,
  w8Push,
];
