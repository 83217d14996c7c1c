import { createServer, Server } from 'node:http';
import { connect, Socket } from 'node:net';
import { applyServerLimits } from './server-limits';

const LIMITS = { headersTimeoutMs: 5000, requestTimeoutMs: 20000, idleTimeoutMs: 30000, keepAliveTimeoutMs: 4000, maxConnections: 1 };

describe(applyServerLimits.name, () => {
  let server: Server;
  const sockets: Socket[] = [];
  beforeEach(async () => {
    server = createServer((_req, res) => res.end('ok'));
    applyServerLimits(server, LIMITS);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  const open = () =>
    new Promise<Socket>((resolve) => {
      const socket = connect((server.address() as { port: number }).port, '127.0.0.1', () => resolve(socket));
      sockets.push(socket);
    });

  it('sets every timeout deliberately', () => {
    expect(server).toMatchObject({ headersTimeout: 5000, requestTimeout: 20000, keepAliveTimeout: 4000, timeout: 30000, maxConnections: 1 });
  });

  it('closes a connection beyond the cap at once', async () => {
    await open();
    const second = await open();
    await new Promise((resolve) => second.once('close', resolve));
    expect(second.destroyed).toBe(true);
  });
});
