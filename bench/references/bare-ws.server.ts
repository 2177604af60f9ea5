/**
 * Reference 1: the practical upper bound for Node here. A bare `ws` server speaking MealPulse's
 * protocol on /ws with the same upgrade check, frame parser, frames and presence map, and
 * nothing else (no framework, no audit, no metrics, no logging). With REDIS_URL it is also W7's
 * baseline (`ReferenceCluster`).
 */
import { createServer, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { parseClientFrame } from '../../src/realtime/client-frame.parser';
import { sendFrame, sendText } from '../../src/realtime/server-frames';
import { answerPresenceQueries } from './presence-queries';
import { ReferenceCluster } from './reference-cluster';
import { ReferencePresence } from './reference-presence';
import { authenticateUpgrade, referenceConfig } from './upgrade-auth';

const config = referenceConfig();
const MAX_BUFFERED_BYTES = 1_048_576;
const presence = new ReferencePresence<WebSocket>();
const wss = new WebSocketServer({
  noServer: true,
  perMessageDeflate: false,
  maxPayload: config.maxPayloadBytes,
});
const server = createServer((_request, response) => response.writeHead(404).end());

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
  ws.on('ping', () => presence.touch(session, true));
  ws.on('pong', () => presence.touch(session, true));
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    presence.touch(session, false);
    const parsed = parseClientFrame(data, isBinary);
    if (!parsed.ok) {
      sendFrame(
        ws,
        { type: 'error', code: parsed.code, message: parsed.message },
        MAX_BUFFERED_BYTES,
      );
    } else if (parsed.frame.type === 'ping') {
      presence.touch(session, true);
      sendFrame(ws, { type: 'pong', ts: Date.now() }, MAX_BUFFERED_BYTES);
    }
  });
  const slice = heartbeatSlices[sessionsOpened++ % HEARTBEAT_SLICES];
  slice.add(ws);
  ws.on('close', () => {
    slice.delete(ws);
    presence.unregister(session);
  });
  sendFrame(
    ws,
    {
      type: 'welcome',
      sessionId: session.sessionId,
      userId,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      staleAfterMs: config.staleAfterMs,
    },
    MAX_BUFFERED_BYTES,
  );
}

/**
 * Heartbeat pings go to a hundredth of the sessions every hundredth of the interval, as MealPulse
 * spreads its own: all of them at once would be a burst of 19,000 pings and pongs every interval,
 * which a measured window may or may not contain.
 */
const HEARTBEAT_SLICES = 100;
const heartbeatSlices = Array.from({ length: HEARTBEAT_SLICES }, () => new Set<WebSocket>());
let sessionsOpened = 0;
let nextSlice = 0;
setInterval(
  () => {
    for (const socket of heartbeatSlices[nextSlice])
      if (socket.readyState === WebSocket.OPEN) socket.ping();
    nextSlice = (nextSlice + 1) % HEARTBEAT_SLICES;
  },
  Math.max(1, Math.floor(config.heartbeatIntervalMs / HEARTBEAT_SLICES)),
).unref();

answerPresenceQueries(() => presence.summary());

/** With REDIS_URL (W7's baseline), instances deliver completions to each other through Redis. */
async function joinCluster(redisUrl: string): Promise<void> {
  const cluster = new ReferenceCluster(
    {
      redisUrl,
      prefix: process.env.REDIS_KEY_PREFIX ?? '',
      port: config.port,
      databaseUrl: process.env.DATABASE_URL!,
    },
    (userId, frame) => {
      for (const { socket } of presence.sessionsOf(userId))
        sendText(socket, frame, MAX_BUFFERED_BYTES);
    },
  );
  await cluster.start();
  cluster.answerProduceRequests();
}

const redisUrl = process.env.REDIS_URL;
void (redisUrl ? joinCluster(redisUrl) : Promise.resolve()).then(() =>
  server.listen(config.port, '127.0.0.1'),
);
