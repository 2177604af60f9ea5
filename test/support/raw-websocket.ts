import { randomBytes } from 'node:crypto';
import { connect, Socket } from 'node:net';
import { tokenFor } from './tokens';
import { Waiters } from '../../tools/common/waiters';

/**
 * A WebSocket peer on a bare TCP socket, for what a well-behaved library refuses to send:
 * hand-written upgrade requests, unmasked or reserved frames, one-byte fragments, invalid UTF-8.
 * Everything the server writes is kept in `received`; every wait is bounded.
 */
export class RawPeer {
  private buffered = Buffer.alloc(0);
  private readonly waiters = new Waiters();
  ended = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.waiters.wake();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.ended = true;
      this.waiters.wake();
    });
  }

  static async connect(baseUrl: string, localAddress?: string): Promise<RawPeer> {
    const { hostname, port } = new URL(baseUrl);
    const socket = connect({ host: hostname, port: Number(port), localAddress });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawPeer(socket);
  }

  /** Everything the server has written so far. */
  get received(): Buffer {
    return this.buffered;
  }

  write(data: string | Buffer): void {
    if (!this.socket.destroyed) this.socket.write(data);
  }

  /** Waits until the server has sent a complete HTTP response head (a 101 or a refusal). */
  async response(timeoutMs = 5_000): Promise<HttpAnswer> {
    await this.waitFor(() => this.buffered.includes('\r\n\r\n') || this.ended, timeoutMs, 'answer');
    const text = this.buffered.toString('latin1');
    const headEnd = text.indexOf('\r\n\r\n');
    if (headEnd < 0) return { status: 0, head: text, body: '' };
    const head = text.slice(0, headEnd);
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
    if (status === 101) {
      this.buffered = this.buffered.subarray(headEnd + 4);
      return { status, head, body: '' };
    }
    const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
    await this.waitFor(
      () => this.buffered.length >= headEnd + 4 + length || this.ended,
      timeoutMs,
      'body',
    );
    return { status, head, body: this.buffered.subarray(headEnd + 4).toString('utf8') };
  }

  /** Waits for the next complete server frame (consumed from `received`). */
  async frame(timeoutMs = 5_000): Promise<ServerFrame> {
    let frame: ServerFrame | null = null;
    await this.waitFor(
      () => (frame = this.takeFrame()) !== null,
      timeoutMs,
      `frame (got ${this.buffered.length} bytes)`,
    );
    return frame!;
  }

  /** Reads frames until a close frame, and returns its code. */
  async closeCode(timeoutMs = 5_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const frame = await this.frame(Math.max(1, deadline - Date.now()));
      if (frame.opcode === Opcode.close) return frame.payload.readUInt16BE(0);
    }
  }

  /** Resolves when the server has closed the TCP connection. */
  closed(timeoutMs = 5_000): Promise<void> {
    return this.waitFor(() => this.ended, timeoutMs, 'TCP close');
  }

  destroy(): void {
    this.socket.destroy();
  }

  private takeFrame(): ServerFrame | null {
    const data = this.buffered;
    if (data.length < 2) return null;
    let length = data[1] & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (data.length < 4) return null;
      length = data.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (data.length < 10) return null;
      length = Number(data.readBigUInt64BE(2));
      offset = 10;
    }
    if (data.length < offset + length) return null;
    this.buffered = data.subarray(offset + length);
    return {
      fin: (data[0] & 0x80) !== 0,
      opcode: data[0] & 0x0f,
      payload: data.subarray(offset, offset + length),
    };
  }

  private waitFor(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return this.waiters
      .until(
        () => (done() ? true : undefined),
        timeoutMs,
        () => `no ${what} from the server within ${timeoutMs} ms`,
      )
      .then(() => undefined);
  }
}

export interface HttpAnswer {
  status: number;
  head: string;
  body: string;
}

export interface ServerFrame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

export const Opcode = {
  continuation: 0x0,
  text: 0x1,
  binary: 0x2,
  close: 0x8,
  ping: 0x9,
  pong: 0xa,
} as const;

export interface UpgradeRequest {
  path?: string;
  method?: string;
  /** Header lines in order; `undefined` values are left out. Defaults to a valid upgrade. */
  headers?: Record<string, string | undefined>;
  /** Extra raw header lines appended after `headers` (e.g. thousands of them). */
  extraLines?: string[];
}

/** The text of an upgrade request: valid by default, every part overridable. */
export function upgradeRequest(userId: string | null, request: UpgradeRequest = {}): string {
  const headers: Record<string, string | undefined> = {
    Host: 'localhost',
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
    'Sec-WebSocket-Version': '13',
    Authorization: userId === null ? undefined : `Bearer ${tokenFor(userId)}`,
    ...request.headers,
  };
  const lines = Object.entries(headers)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => `${name}: ${value}`);
  return (
    `${request.method ?? 'GET'} ${request.path ?? '/ws'} HTTP/1.1\r\n` +
    [...lines, ...(request.extraLines ?? [])].map((line) => `${line}\r\n`).join('') +
    '\r\n'
  );
}

/** Sends an upgrade request on a fresh connection and returns the peer with the server's answer. */
export async function rawUpgrade(
  baseUrl: string,
  userId: string | null,
  request: UpgradeRequest = {},
  localAddress?: string,
): Promise<{ peer: RawPeer; answer: HttpAnswer }> {
  const peer = await RawPeer.connect(baseUrl, localAddress);
  peer.write(upgradeRequest(userId, request));
  return { peer, answer: await peer.response() };
}

/** Opens a session as a raw peer and consumes its `welcome` frame. */
export async function rawSession(baseUrl: string, userId: string): Promise<RawPeer> {
  const { peer, answer } = await rawUpgrade(baseUrl, userId);
  if (answer.status !== 101) throw new Error(`upgrade refused: ${answer.head}`);
  const welcome = await peer.frame();
  if (!welcome.payload.toString().includes('"welcome"')) throw new Error('no welcome frame');
  return peer;
}

export interface FrameOptions {
  fin?: boolean;
  /** Clients must mask; `false` sends an unmasked frame (a protocol error from a client). */
  masked?: boolean;
  rsv?: number;
}

/** Encodes one client frame. */
export function encodeFrame(
  opcode: number,
  payload: Buffer | string = Buffer.alloc(0),
  { fin = true, masked = true, rsv = 0 }: FrameOptions = {},
): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const lengthBytes =
    data.length < 126
      ? Buffer.from([data.length])
      : data.length < 65_536
        ? Buffer.from([126, data.length >> 8, data.length & 0xff])
        : Buffer.concat([Buffer.from([127]), bigEndian64(data.length)]);
  lengthBytes[0] |= masked ? 0x80 : 0;
  const first = Buffer.from([(fin ? 0x80 : 0) | ((rsv & 0x7) << 4) | (opcode & 0x0f)]);
  if (!masked) return Buffer.concat([first, lengthBytes, data]);
  const mask = randomBytes(4);
  const body = Buffer.from(data.map((byte, i) => byte ^ mask[i % 4]));
  return Buffer.concat([first, lengthBytes, mask, body]);
}

function bigEndian64(value: number): Buffer {
  const buffer = Buffer.alloc(8);
  buffer.writeBigUInt64BE(BigInt(value));
  return buffer;
}
