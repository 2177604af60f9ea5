import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * This process's identity among all the processes sharing the database: job leases and session
 * audit rows name it, and a restart is a new instance.
 */
@Injectable()
export class ServiceInstance {
  readonly id = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}
