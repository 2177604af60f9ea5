import type { WebSocket } from 'ws';
import type { components } from './generated/ws-frames';

/**
 * The frames the simulator (and the soak, through it) exchanges, typed by the service's AsyncAPI
 * document: `generated/ws-frames.ts` is generated from its frame schemas by `npm run contracts`
 * (run by the build and by lint), so a protocol change that breaks this client breaks the build.
 */
type Schemas = components['schemas'];
export type NotificationFrame = Schemas['NotificationFrame'];
export type ServerFrame =
  Schemas['WelcomeFrame'] | Schemas['PongFrame'] | NotificationFrame | Schemas['ErrorFrame'];
export type ClientFrame = Schemas['PingFrame'] | Schemas['AckFrame'] | Schemas['AppStateFrame'];

export function sendFrame(socket: WebSocket, frame: ClientFrame): void {
  socket.send(JSON.stringify(frame));
}

/** A text frame from the service; the service sends nothing else, and the tests hold it to that. */
export function readFrame(text: string): ServerFrame {
  return JSON.parse(text) as ServerFrame;
}
