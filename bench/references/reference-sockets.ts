import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { answerPresenceQueries } from './presence-queries';
import { readFrame, ReferenceServerFrame, sendText } from './reference-frames';
import { ReferencePresence, SESSION_SHARDS } from './reference-presence';
import { authenticateUpgrade, ReferenceConfig } from './upgrade-auth';

const MAX_BUFFERED_BYTES = 1_048_576;

export interface ReferenceSockets {
  /** Writes one serialised frame to each of the user's sessions on this process. */
  deliver(userId: string, frame: string): void;
}

/**
 * MealPulse's protocol on `server`'s /ws, as the bare `ws` references speak it: the same upgrade
 * check, frame rules, frames, presence map and heartbeat schedule (their own copies, in this
 * folder), and nothing else (no framework, no audit, no metrics, no logging). Also answers the
 * harness's presence queries.
 */
export function serveSockets(server: Server, config: ReferenceConfig): ReferenceSockets {
  const presence = new ReferencePresence<WebSocket>();
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: config.maxPayloadBytes,
  });
  const send = (ws: WebSocket, frame: ReferenceServerFrame) =>
    sendText(ws, JSON.stringify(frame), MAX_BUFFERED_BYTES);

  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const identity = request.url?.startsWith('/ws')
      ? authenticateUpgrade(request, config.jwtSecret)
      : null;
    if (!identity) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => open(ws, identity.userId, identity.deviceId));
  });

  function open(ws: WebSocket, userId: string, deviceId: string | null): void {
    const session = presence.register(userId, deviceId, ws);
    ws.on('error', () => ws.terminate());
    ws.on('ping', () => presence.touch(session, 'ping'));
    ws.on('pong', () => presence.touch(session, 'pong'));
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      presence.touch(session, 'message');
      const frame = readFrame(data, isBinary);
      if (frame.type === 'error') send(ws, frame);
      else if (frame.type === 'ping') {
        presence.touch(session, 'ping');
        send(ws, { type: 'pong', ts: Date.now() });
      }
    });
    ws.on('close', () => presence.unregister(session));
    send(ws, {
      type: 'welcome',
      sessionId: session.sessionId,
      userId,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      staleAfterMs: config.staleAfterMs,
    });
  }

  // Spread over the interval as MealPulse spreads its own (a tick every interval ÷ shards, at
  // least 10 ms, pinging every ticks-th shard): all at once would be a burst of 19,000 pings and
  // pongs every interval, which a measured window may or may not contain.
  const tickMs = Math.min(
    config.heartbeatIntervalMs,
    Math.max(10, Math.floor(config.heartbeatIntervalMs / SESSION_SHARDS)),
  );
  const ticks = Math.max(1, Math.floor(config.heartbeatIntervalMs / tickMs));
  let tick = 0;
  setInterval(() => {
    for (let shard = tick; shard < SESSION_SHARDS; shard += ticks) {
      for (const { socket } of presence.inShard(shard))
        if (socket.readyState === WebSocket.OPEN) socket.ping();
    }
    tick = (tick + 1) % ticks;
  }, tickMs).unref();

  answerPresenceQueries(() => presence.summary());

  return {
    deliver(userId, frame) {
      for (const { socket } of presence.sessionsOf(userId))
        sendText(socket, frame, MAX_BUFFERED_BYTES);
    },
  };
}
