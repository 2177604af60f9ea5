import { rm } from 'node:fs/promises';

export default async function globalTeardown(): Promise<void> {
  const server = globalThis.embeddedPostgres;
  if (!server) return;
  await server.stop();
  await rm(server.dataDirectory, { recursive: true, force: true });
}
