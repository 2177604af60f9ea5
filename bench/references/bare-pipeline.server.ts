/**
 * The W3 reference, the bare pipeline: one process on `node:http` + `ws` + `pg` that takes
 * MealPulse's POST (`restRoutes`), speaks its protocol on /ws (`serveSockets`), and works the
 * queue (`ReferenceWorker`): claim, complete in one statement, push the frame to the user's
 * sessions on this process. The same schema, pool size and job variables as MealPulse, with
 * MealPulse's defaults where the workload sets none.
 */
import { createServer } from 'node:http';
import { Pool } from 'pg';
import { CompletionFrames } from './reference-meal-log';
import { restRoutes } from './reference-rest';
import { serveSockets } from './reference-sockets';
import { ReferenceWorker } from './reference-worker';
import { referenceConfig } from './upgrade-auth';

const config = referenceConfig();
/** The same pool size as MealPulse's DataSource, shared by the routes and the worker. */
const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 20 });
pool.on('error', (error) => console.error('bare pipeline: PostgreSQL', error));
const frames = new CompletionFrames();
const worker = new ReferenceWorker(
  pool,
  {
    concurrency: Number(process.env.JOB_CONCURRENCY ?? 4),
    pollIntervalMs: Number(process.env.JOB_POLL_INTERVAL_MS ?? 500),
    leaseMs: Number(process.env.JOB_LEASE_MS ?? 30_000),
  },
  (userId, mealLog) => sockets.deliver(userId, frames.frameOf(userId, mealLog)),
);
const server = createServer(restRoutes(pool, config.jwtSecret, () => worker.wake()));
const sockets = serveSockets(server, config);

server.listen(config.port, '127.0.0.1', () => worker.start());
