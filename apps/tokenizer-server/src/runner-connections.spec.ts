import { createServer, type Server, type Socket } from 'node:net';
import { type ProcReader, procFs, RunnerConnections } from './runner-connections';

describe(RunnerConnections.name, () => {
  let server: Server;
  let accepted: Promise<Socket>;
  let client: Socket;

  beforeEach(async () => {
    server = createServer();
    accepted = new Promise((resolve) => server.once('connection', resolve));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    client = (await import('node:net')).connect(port, '127.0.0.1');
    await new Promise((resolve) => client.once('connect', resolve));
  });
  afterEach(async () => {
    client.destroy();
    (await accepted).destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('takes every caller for the runner until the service names one (the server run alone)', async () => {
    expect(new RunnerConnections().isRunner(await accepted)).toBe(true);
  });

  it('recognises a connection whose client end the runner process holds (/proc), and no other', async () => {
    const connections = new RunnerConnections();
    const socket = await accepted;
    connections.setRunner(process.pid); // this process holds the client end
    expect(connections.isRunner(socket)).toBe(true);
    connections.setRunner(1); // init holds nothing of ours (and its fds are not readable)
    expect(connections.isRunner(socket)).toBe(false);
    connections.setRunner(null); // the runner exited: nobody is
    expect(connections.isRunner(socket)).toBe(false);
  });

  it('reads /proc once per connection and runner', async () => {
    const reads: string[] = [];
    const proc: ProcReader = {
      tcpTable: (family) => (reads.push(family), procFs.tcpTable(family)),
      fdTargets: (pid) => (reads.push(`fd ${pid}`), procFs.fdTargets(pid)),
    };
    const connections = new RunnerConnections(proc);
    connections.setRunner(process.pid);
    const socket = await accepted;
    expect(connections.isRunner(socket)).toBe(true);
    const first = reads.length;
    expect(connections.isRunner(socket)).toBe(true);
    expect(reads.length).toBe(first);
  });
});
