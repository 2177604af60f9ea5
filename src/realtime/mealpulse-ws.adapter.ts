import type { INestApplication } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import type { MessageMappingProperties } from '@nestjs/websockets';
import { STATUS_CODES, IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { isObservable, lastValueFrom } from 'rxjs';
import { WebSocket, WebSocketServer } from 'ws';
import { ClientFrame, parseClientFrame } from './client-frame.parser';
import type { DirectFrameHandler } from './direct-frame.decorator';
import { MessageRateLimiter } from './message-rate.limiter';
import { CloseCode, encodeFrame, EncodedFrame, ServerFrames, writeFrame } from './server-frames';

export type GateDecision =
  | { accepted: true; context: unknown; release: () => void }
  | { accepted: false; status: number; message: string };

/**
 * What the application decides about an upgrade before the socket exists: at once, or later
 * (a decision that needs a shared store); one that does not come within the adapter's
 * `upgradeDecisionTimeoutMs` is answered 503.
 */
export interface UpgradeGate {
  authorize(request: IncomingMessage, url: URL): GateDecision | Promise<GateDecision>;
}

export interface MealPulseWsAdapterOptions {
  maxPayloadBytes: number;
  maxMessagesPerSecond: number;
  maxBufferedBytes: number;
  /** How long an upgrade may wait for the gate's decision before it is refused (default 5 s). */
  upgradeDecisionTimeoutMs?: number;
  /**
   * The handlers the adapter calls itself, by frame type (see `directFrameHandlers`); other
   * types go through Nest's handler pipeline.
   */
  directHandlers?: ReadonlyMap<string, DirectFrameHandler>;
}

const DEFAULT_UPGRADE_DECISION_TIMEOUT_MS = 5_000;
/**
 * Fragments per message. ws's own default is 16,384; a legitimate client sends a JSON frame in
 * one piece, so a thousand fragments is already abuse (closed 1008) and bounds what one message
 * can hold in memory regardless of how small its pieces are.
 */
const MAX_FRAGMENTS_PER_MESSAGE = 1_024;

/** The upgrade's context, attached to the request the gateway receives in handleConnection. */
export const UPGRADE_CONTEXT = Symbol('mealpulse.upgradeContext');
export type UpgradedRequest<T> = IncomingMessage & { [UPGRADE_CONTEXT]: T };

type Handler = MessageMappingProperties['callback'];

/**
 * The stock WsAdapter with the parts a production socket needs:
 * - upgrades are authorised before the handshake completes and refused with a real HTTP status
 *   (the stock adapter accepts, or silently destroys the socket);
 * - frames are parsed strictly and answered with an `error` frame when bad (the stock parser
 *   drops them silently), dispatched on `type` to the gateways' @SubscribeMessage handlers, which
 *   stay as they are; a @DirectFrame handler is called directly, and answered in the same turn;
 * - a per-session rate limit; `maxPayload` from configuration; a fragment cap; no
 *   permessage-deflate;
 * - no RxJS pipeline per socket and per message: a plain listener and a Map lookup.
 */
export class MealPulseWsAdapter extends WsAdapter {
  /** Several gateways may share the socket; their handlers are merged per client. */
  private readonly handlersByClient = new WeakMap<WebSocket, Map<string, Handler>>();
  private readonly directHandlers: ReadonlyMap<string, DirectFrameHandler>;

  constructor(
    app: INestApplication,
    private readonly gate: UpgradeGate,
    private readonly options: MealPulseWsAdapterOptions,
  ) {
    super(app);
    this.directHandlers = options.directHandlers ?? new Map();
  }

  override create(
    port: number,
    options: Record<string, unknown> & { path?: string } = {},
  ): WebSocketServer {
    return super.create(port, {
      ...options,
      maxPayload: this.options.maxPayloadBytes,
      maxFragments: MAX_FRAGMENTS_PER_MESSAGE,
      perMessageDeflate: false,
    }) as WebSocketServer;
  }

  /**
   * A client's protocol error (oversized frame, invalid UTF-8, bad opcode) is the client's fault:
   * ws has already closed that socket with the matching code (1009, 1007, 1002), so it is worth a
   * warning, not an error. A listener must exist either way, or the error would crash the process.
   */
  override bindErrorHandler(server: WebSocketServer): WebSocketServer {
    server.on('connection', (socket: WebSocket) =>
      socket.on('error', (error: Error & { code?: string }) =>
        this.logger.warn(`closed a client for a protocol error: ${error.code ?? error.message}`),
      ),
    );
    server.on('error', (error: Error) => this.logger.error(error));
    return server;
  }

  protected override ensureHttpServerExists(port: number, httpServer?: Server): Server | undefined {
    if (this.httpServersRegistry.has(port)) return undefined;
    const server = httpServer ?? new Server();
    this.httpServersRegistry.set(port, server);
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.handleUpgrade(port, request, socket, head),
    );
    return server;
  }

  override bindMessageHandlers(client: WebSocket, handlers: MessageMappingProperties[]): void {
    let byType = this.handlersByClient.get(client);
    if (byType) {
      for (const { message, callback } of handlers) byType.set(String(message), callback);
      return;
    }
    byType = new Map(handlers.map(({ message, callback }) => [String(message), callback]));
    this.handlersByClient.set(client, byType);

    const limiter = new MessageRateLimiter(this.options.maxMessagesPerSecond, Date.now());
    const admit = (): boolean => {
      switch (limiter.take(Date.now())) {
        case 'allow':
          return true;
        case 'limit':
          this.sendError(client, { code: 'rate_limited', message: 'Too many messages; slow down' });
          return false;
        case 'close':
          client.close(CloseCode.policyViolation, 'rate limit exceeded');
          return false;
      }
    };
    // ws answers protocol pings itself; a peer flooding pings without reading the pongs is
    // caught by the same output bound as everything else.
    client.on('ping', () => {
      if (admit() && client.bufferedAmount > this.options.maxBufferedBytes) client.terminate();
    });
    client.on('message', (data: Buffer, isBinary: boolean) => {
      if (!admit()) return;
      const parsed = parseClientFrame(data, isBinary);
      if (!parsed.ok) {
        this.sendError(client, { code: parsed.code, message: parsed.message });
        return;
      }
      const { frame } = parsed;
      const direct = this.directHandlers.get(frame.type);
      if (direct) return this.replyNow(client, direct, frame);
      const handler = byType.get(frame.type);
      if (!handler) {
        this.sendError(client, {
          code: 'unknown_type',
          message: `Unknown frame type "${frame.type}"`,
        });
        return;
      }
      void this.reply(client, handler(frame, frame.type));
    });
  }

  /** A direct handler's answer goes out in the frame's own turn; a promise is awaited as usual. */
  private replyNow(client: WebSocket, handler: DirectFrameHandler, frame: ClientFrame): void {
    let result: unknown;
    try {
      result = handler(client, frame);
    } catch (error) {
      return this.failed(client, error);
    }
    if (result === undefined || result === null) return;
    if (result instanceof Promise || isObservable(result)) return void this.reply(client, result);
    this.send(client, result as EncodedFrame);
  }

  /** A handler answers with an encoded frame (see `encodeFrame`), or with nothing. */
  private async reply(client: WebSocket, result: unknown): Promise<void> {
    try {
      const value: unknown = isObservable(result)
        ? await lastValueFrom(result, { defaultValue: undefined })
        : await result;
      if (value !== undefined && value !== null) this.send(client, value as EncodedFrame);
    } catch (error) {
      this.failed(client, error);
    }
  }

  private failed(client: WebSocket, error: unknown): void {
    this.logger.error(error);
    this.sendError(client, { code: 'internal_error', message: 'The frame could not be handled' });
  }

  private sendError(client: WebSocket, error: ServerFrames['error']): void {
    this.send(client, encodeFrame('error', error));
  }

  private send(client: WebSocket, frame: EncodedFrame): void {
    writeFrame(client, frame, this.options.maxBufferedBytes);
  }

  private handleUpgrade(
    port: number,
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
  ): void {
    // A peer that resets mid-handshake must not take the process down. The listener stays for
    // the socket's life, so it is a plain function: a closure here would keep this call's
    // variables (the request with its headers, the URL, the timer) alive with every session.
    socket.on('error', destroySocket);
    let url: URL;
    try {
      url = new URL(request.url ?? '/', 'ws://localhost');
    } catch {
      return refuse(socket, 400, 'Malformed request URL');
    }
    const servers = (this.wsServersRegistry.get(port) ?? []) as (WebSocketServer & {
      path: string;
    })[];
    const server = servers.find((candidate) => candidate.path === url.pathname);
    if (!server) return refuse(socket, 404, 'No WebSocket endpoint at this path');

    let decided: GateDecision | Promise<GateDecision>;
    try {
      decided = this.gate.authorize(request, url);
    } catch (error) {
      // Thrown inside the server's 'upgrade' event, it would take the whole process down.
      return this.refuseAfterError(socket, error);
    }
    if (!(decided instanceof Promise)) return this.complete(server, request, socket, head, decided);
    this.completeWhenDecided(server, request, socket, head, decided);
  }

  private completeWhenDecided(
    server: WebSocketServer,
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    decided: Promise<GateDecision>,
  ): void {
    let waiting = true;
    const deadline = setTimeout(() => {
      waiting = false;
      refuse(socket, 503, 'The upgrade could not be decided in time; retry with back-off');
    }, this.options.upgradeDecisionTimeoutMs ?? DEFAULT_UPGRADE_DECISION_TIMEOUT_MS);
    decided.then(
      (decision) => {
        clearTimeout(deadline);
        if (waiting && !socket.destroyed)
          return this.complete(server, request, socket, head, decision);
        if (decision.accepted) decision.release(); // too late, or the peer left meanwhile
      },
      (error: unknown) => {
        clearTimeout(deadline);
        if (waiting) this.refuseAfterError(socket, error);
      },
    );
  }

  private complete(
    server: WebSocketServer,
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    decision: GateDecision,
  ): void {
    if (!decision.accepted) return refuse(socket, decision.status, decision.message);
    (request as UpgradedRequest<unknown>)[UPGRADE_CONTEXT] = decision.context;
    socket.once('close', decision.release);
    server.handleUpgrade(request, socket, head, (ws) => {
      socket.removeListener('close', decision.release);
      decision.release();
      server.emit('connection', ws, request);
    });
  }

  private refuseAfterError(socket: Duplex, error: unknown): void {
    this.logger.error(error);
    refuse(socket, 500, 'The upgrade could not be decided');
  }
}

function destroySocket(this: Duplex): void {
  this.destroy();
}

function refuse(socket: Duplex, status: number, message: string): void {
  if (!socket.writable) return void socket.destroy();
  const body = JSON.stringify({
    statusCode: status,
    error: STATUS_CODES[status] ?? 'Error',
    message,
  });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n` +
      body,
  );
}
