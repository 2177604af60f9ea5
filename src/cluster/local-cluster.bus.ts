import { Injectable } from '@nestjs/common';
import { ClusterBus } from './cluster-bus.port';

/** A single instance: there is no other instance to send to. */
@Injectable()
export class LocalClusterBus extends ClusterBus {
  send(): Promise<boolean> {
    return Promise.resolve(false);
  }

  broadcast(): Promise<boolean> {
    return Promise.resolve(false);
  }

  on(): void {
    // Nothing ever arrives.
  }
}
