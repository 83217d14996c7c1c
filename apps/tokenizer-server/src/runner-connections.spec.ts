import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findLineInFile, type ProcReader, procFs, RunnerConnections } from './runner-connections';

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
      findSocketLine: (family, line) => (reads.push(family), procFs.findSocketLine(family, line)),
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

  it('finds the client end among TIME-WAIT sockets on the same ports and in the IPv6 table', async () => {
    const socket = await accepted;
    const peer = socket.remotePort!.toString(16).toUpperCase().padStart(4, '0');
    const ours = socket.localPort!.toString(16).toUpperCase().padStart(4, '0');
    const header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
    const timeWait = `   7: 0100007F:${peer} 0100007F:${ours} 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000\n`;
    const other = `   8: 0100007F:${ours} 0100007F:${peer} 01 00000000:00000000 00:00000000 00000000     0        0 5555 1 0000000000000000 20 4 30 10 -1\n`;
    const v6 = `   0: 0000000000000000FFFF00000100007F:${peer} 0000000000000000FFFF00000100007F:${ours} 01 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 20 4 30 10 -1\n`;
    const tables = { tcp: header + timeWait + other, tcp6: header + v6 };
    const inTable = (family: 'tcp' | 'tcp6', line: RegExp) => new RegExp(line.source, 'm').exec(tables[family])?.[0] ?? null;
    const connections = new RunnerConnections({ findSocketLine: inTable, fdTargets: () => ['pipe:[1]', 'socket:[4242]'] });
    connections.setRunner(1234);
    expect(connections.isRunner(socket)).toBe(true);
    const notHeld = new RunnerConnections({ findSocketLine: inTable, fdTargets: () => ['socket:[5555]', 'socket:[0]'] });
    notHeld.setRunner(1234);
    expect(notHeld.isRunner(socket)).toBe(false); // 5555 is our own end, 0 the TIME-WAIT one: neither is the client's
  });
});

describe(findLineInFile.name, () => {
  const dir = mkdtempSync(join(tmpdir(), 'find-line-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds a line cut by a 64 KB read boundary, the first of several, and the last line without a newline', () => {
    const path = join(dir, 'table');
    const filler = 'x'.repeat(99) + '\n'; // 100 bytes a line
    const target = `  7: TARGET one ${'z'.repeat(60)}`; // starts at byte 65,500: the first 64 KB read ends inside it
    writeFileSync(path, `${filler.repeat(655)}${target}\n${filler}  8: TARGET two\n  9: LAST`);
    expect(findLineInFile(path, /^ *\d+: TARGET .*$/)).toBe(target);
    expect(findLineInFile(path, /^ *9: LAST$/)).toBe('  9: LAST');
    expect(findLineInFile(path, /^ *\d+: ABSENT$/)).toBeNull();
    expect(findLineInFile(join(dir, 'missing'), /x/)).toBeNull();
  });
});
