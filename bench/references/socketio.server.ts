/**
 * Reference 2: what most teams would otherwise pick. Socket.IO 4 the idiomatic way: the JWT is
 * checked in `allowRequest` (before the upgrade, as MealPulse does), each user's sockets join a
 * room `user:<id>` (notifications would be `io.to(room).emit`), Socket.IO's own heartbeat keeps
 * sessions alive, and frames are MealPulse's JSON objects sent as `message` events.
 */
import { createServer, IncomingMessage } from 'node:http';
import { Server, Socket } from 'socket.io';
import { answerPresenceQueries } from './presence-queries';
import { readParsedFrame, ReferenceServerFrame } from './reference-frames';
import { ReferencePresence } from './reference-presence';
import { authenticateUpgrade, referenceConfig, UpgradeIdentity } from './upgrade-auth';

const config = referenceConfig();
const IDENTITY = Symbol('identity');
type AuthenticatedRequest = IncomingMessage & { [IDENTITY]?: UpgradeIdentity };
/** engine.io closes a session whose pong is this late; MealPulse's equivalent is staleAfterMs. */
const pingTimeout = Math.max(config.staleAfterMs - config.heartbeatIntervalMs, 20_000);

const presence = new ReferencePresence<Socket>();
const httpServer = createServer();
const io = new Server(httpServer, {
  transports: ['websocket'],
  perMessageDeflate: false,
  httpCompression: false,
  serveClient: false,
  maxHttpBufferSize: config.maxPayloadBytes,
  pingInterval: config.heartbeatIntervalMs,
  pingTimeout,
  allowRequest: (request: AuthenticatedRequest, callback) => {
    const identity = authenticateUpgrade(request, config.jwtSecret);
    if (identity) request[IDENTITY] = identity;
    callback(identity ? null : 'unauthorized', identity !== null);
  },
});

function send(socket: Socket, frame: ReferenceServerFrame): void {
  socket.send(frame);
}

io.on('connection', (socket) => {
  const identity = (socket.request as AuthenticatedRequest)[IDENTITY]!;
  const session = presence.register(identity.userId, identity.deviceId, socket);
  void socket.join(`user:${identity.userId}`);
  // The answer to the engine's heartbeat is Socket.IO's sign of life.
  socket.conn.on('heartbeat', () => presence.touch(session, 'pong'));
  socket.on('message', (frame: unknown) => {
    presence.touch(session, 'message');
    // Socket.IO has already parsed the JSON; the shape rules are the same as everywhere else.
    const read = readParsedFrame(frame);
    if (read.type === 'error') send(socket, read);
    else if (read.type === 'ping') {
      presence.touch(session, 'ping');
      send(socket, { type: 'pong', ts: Date.now() });
    }
  });
  socket.on('disconnect', () => presence.unregister(session));
  send(socket, {
    type: 'welcome',
    sessionId: session.sessionId,
    userId: identity.userId,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    staleAfterMs: config.staleAfterMs,
  });
});

answerPresenceQueries(() => presence.summary());
httpServer.listen(config.port, '127.0.0.1');
