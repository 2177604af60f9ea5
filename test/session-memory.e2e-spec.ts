import type { IncomingMessage } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { WsGateway } from '../src/gateway/ws.gateway';
import { startTestApp, TestApp } from './support/test-app';
import { WsClient } from './support/ws-client';

/** A full garbage collection, without starting jest with --expose-gc. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/**
 * What an open session keeps in memory: nothing of its upgrade. A session that kept the upgrade
 * request (headers, token strings), its URL and first bytes would cost about 2 KiB more each
 * (W1 in docs/benchmarks.md).
 */
describe('session memory', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp();
  });

  afterAll(async () => {
    await app.close();
  });

  it('lets the upgrade request go once the session is open', async () => {
    const requests: WeakRef<IncomingMessage>[] = [];
    const gateway = app.app.get(WsGateway);
    const handleConnection = gateway.handleConnection.bind(gateway);
    const spy = jest
      .spyOn(gateway, 'handleConnection')
      .mockImplementation(async (socket, request) => {
        requests.push(new WeakRef(request));
        await handleConnection(socket, request);
      });
    const clients: WsClient[] = [];
    try {
      for (let i = 0; i < 20; i++)
        clients.push(await WsClient.connect(app.baseUrl, { userId: `memory-${i}`, deviceId: 'd' }));
      spy.mockRestore();
      // The newest upgrade request stays referenced outside any session until the next one
      // comes (always the last of a series, with or without the fix): one more session, not
      // looked at, so that what happens to the 20 is up to the sessions alone.
      clients.push(await WsClient.connect(app.baseUrl, { userId: 'memory-last', deviceId: 'd' }));
      // A WeakRef keeps its target until the job that made it has ended.
      await new Promise((resolve) => setImmediate(resolve));
      collectGarbage();
      expect(requests).toHaveLength(20);
      expect(requests.filter((ref) => ref.deref() !== undefined)).toHaveLength(0);
      for (const client of clients) expect(client.state()).toBe('open');
    } finally {
      spy.mockRestore();
      await Promise.all(clients.map((client) => client.close()));
    }
  });
});
