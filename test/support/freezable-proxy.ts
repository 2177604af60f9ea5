import { connect, createServer, Server, Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP proxy in front of a server, for a test that needs that server to stop answering without
 * touching it (the machine's PostgreSQL is shared): `freeze` stops reading on both sides of every
 * connection, and new connections are accepted but never answered, as with a hung server.
 */
export class FreezableProxy {
  private readonly server: Server;
  private readonly sockets: Socket[] = [];
  private frozen = false;

  private constructor(private readonly target: { host: string; port: number }) {
    this.server = createServer((client) => {
      this.sockets.push(client);
      if (this.frozen) return void client.pause(); // accepted, as by a hung server's kernel
      const upstream = connect(target.port, target.host);
      this.sockets.push(upstream);
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
  }

  /** Listens on a free port and returns the proxy, forwarding to `targetUrl`'s host and port. */
  static async start(targetUrl: string): Promise<FreezableProxy> {
    const { hostname, port } = new URL(targetUrl);
    const proxy = new FreezableProxy({ host: hostname, port: Number(port || 5432) });
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  /** `targetUrl` with its host and port replaced by the proxy's. */
  urlFor(targetUrl: string): string {
    const url = new URL(targetUrl);
    url.hostname = '127.0.0.1';
    url.port = String((this.server.address() as AddressInfo).port);
    return url.toString();
  }

  freeze(): void {
    this.frozen = true;
    for (const socket of this.sockets) {
      socket.unpipe();
      socket.pause();
    }
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
