import { join } from 'node:path';
import type { Wire } from '../load/wire-codec';

/** The servers a workload can be run against. */
export type ServerKind =
  'mealpulse' | 'bare-ws' | 'bare-ws-redis' | 'socketio' | 'bare-http' | 'bare-pipeline';

export interface ServerKindInfo {
  label: string;
  /** Compiled entry point. */
  script: string;
  wire: Wire;
  needsDatabase: boolean;
  /** Its database needs MealPulse's schema before it starts (MealPulse migrates its own). */
  migrateFirst?: boolean;
}

/** MealPulse's migration CLI from the build output. */
export const MIGRATE_SCRIPT = join(__dirname, '..', '..', 'src', 'database', 'migrate.cli.js');

const DIST = join(__dirname, '..', '..');

export const SERVER_KINDS: Record<ServerKind, ServerKindInfo> = {
  mealpulse: {
    label: 'MealPulse',
    script: join(DIST, 'src', 'main.js'),
    wire: 'mealpulse',
    needsDatabase: true,
  },
  'bare-ws': {
    label: 'bare ws',
    script: join(DIST, 'bench', 'references', 'bare-ws.server.js'),
    wire: 'mealpulse',
    needsDatabase: false,
  },
  /**
   * The bare server as two instances through Redis and PostgreSQL: W7's baseline, for W7 only
   * (W7 creates and migrates the database and passes REDIS_URL itself).
   */
  'bare-ws-redis': {
    label: 'bare ws + Redis',
    script: join(DIST, 'bench', 'references', 'bare-ws.server.js'),
    wire: 'mealpulse',
    needsDatabase: true,
    migrateFirst: true,
  },
  socketio: {
    label: 'Socket.IO 4',
    script: join(DIST, 'bench', 'references', 'socketio.server.js'),
    wire: 'socketio',
    needsDatabase: false,
  },
  'bare-http': {
    label: 'node:http + pg',
    script: join(DIST, 'bench', 'references', 'bare-http.server.js'),
    wire: 'mealpulse',
    needsDatabase: true,
    migrateFirst: true,
  },
  /** W3's reference: POST, job queue and push in one bare process, on MealPulse's schema. */
  'bare-pipeline': {
    label: 'bare pipeline',
    script: join(DIST, 'bench', 'references', 'bare-pipeline.server.js'),
    wire: 'mealpulse',
    needsDatabase: true,
    migrateFirst: true,
  },
};
