import type { WebSocket } from 'ws';

/** Which wire a server speaks: MealPulse's JSON text frames, or the same frames inside Socket.IO. */
export type Wire = 'mealpulse' | 'socketio';

/** A server frame as the load generator needs it (MealPulse's frames, loosely typed). */
export interface InboundFrame {
  type: string;
  [field: string]: unknown;
}

/**
 * Speaks one wire over a plain `ws` client, so every server is driven by the same client code
 * and the client's cost is the same whichever server is measured.
 */
export interface WireCodec {
  /** Path and query of the upgrade request. */
  readonly path: string;
  /** Whether the wire lets the client send protocol pings that count as a sign of life. */
  readonly protocolPings: boolean;
  /** Called for every text message; returns the MealPulse frame it carried, if any. */
  decode(socket: WebSocket, text: string): InboundFrame | null;
  encode(frame: object): string;
}

const mealpulseCodec: WireCodec = {
  path: '/ws',
  protocolPings: true,
  decode: (_socket, text) => JSON.parse(text) as InboundFrame,
  encode: (frame) => JSON.stringify(frame),
};

/**
 * engine.io v4 + socket.io v5 packets, the parts the references use: `0` open, `40` namespace
 * connect, `2`/`3` heartbeat, `42["message",frame]` events.
 */
const socketIoCodec: WireCodec = {
  path: '/socket.io/?EIO=4&transport=websocket',
  protocolPings: false,
  decode(socket, text) {
    if (text === '2') {
      socket.send('3');
      return null;
    }
    if (text.startsWith('0{')) {
      socket.send('40');
      return null;
    }
    if (!text.startsWith('42')) return null;
    const [event, frame] = JSON.parse(text.slice(2)) as [string, InboundFrame];
    return event === 'message' ? frame : null;
  },
  encode: (frame) => `42${JSON.stringify(['message', frame])}`,
};

export function codecFor(wire: Wire): WireCodec {
  return wire === 'socketio' ? socketIoCodec : mealpulseCodec;
}
