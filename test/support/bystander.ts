import { readdirSync } from 'node:fs';
import { WsClient } from './ws-client';

/**
 * A well-behaved session kept open while an attack runs next to it: after every attack it must
 * still be open and have its JSON ping answered promptly.
 */
export async function expectStillServed(bystander: WsClient, withinMs = 1_000): Promise<void> {
  expect(bystander.state()).toBe('open');
  bystander.send({ type: 'ping' });
  await bystander.nextNewFrame((frame) => frame.type === 'pong', withinMs);
}

/** A JSON ping answered with a pong frame and a protocol ping with a protocol pong, each within 1 s. */
export async function expectPingsAnswered(client: WsClient): Promise<void> {
  expect(client.state()).toBe('open');
  client.send({ type: 'ping' });
  await client.nextNewFrame((frame) => frame.type === 'pong', 1_000);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no protocol pong within 1 s')), 1_000);
    client.socket.once('pong', () => {
      clearTimeout(timer);
      resolve();
    });
    client.socket.ping();
  });
}

/** Open file descriptors of this process (the app under test runs in it). */
export function openFileDescriptors(): number {
  return readdirSync('/proc/self/fd').length;
}
