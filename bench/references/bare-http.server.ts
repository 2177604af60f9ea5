/**
 * The W4 reference: MealPulse's two hottest REST routes on bare `node:http` + `pg`
 * (`restRoutes`), on MealPulse's schema.
 */
import { createServer } from 'node:http';
import { Pool } from 'pg';
import { restRoutes } from './reference-rest';

/** The same pool size as MealPulse's DataSource. */
const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 20 });

createServer(restRoutes(pool, process.env.JWT_SECRET!)).listen(
  Number(process.env.PORT),
  '127.0.0.1',
);
