import { readdirSync } from 'node:fs';
import { WsClient } from './ws-client';

/**
 * A well-behaved session kept open while an attack runs next to it: after every attack it must
 * still be open and have its JSON ping answered promptly.
 */
export async function expectStillServed(bystander: WsClient, withinMs = 1_000): Promise<void> {
  expect(bystander.isOpen()).toBe(true);
  bystander.send({ type: 'ping' });
  await bystander.nextNewFrame((frame) => frame.type === 'pong', withinMs);
}

/** Open file descriptors of this process (the app under test runs in it). */
export function openFileDescriptors(): number {
  return readdirSync('/proc/self/fd').length;
}
