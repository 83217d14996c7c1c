import { readdir, readFile, readlink } from 'node:fs/promises';
import type { Socket } from 'node:net';

/**
 * Reads what the kernel says about sockets and processes (/proc); swapped in tests. Asynchronous: the
 * socket table lists every TCP socket of the host, TIME-WAIT ones included (the runner leaves one per
 * call), so reading it can take milliseconds — in libuv's thread pool, never on the thread that
 * answers the runner.
 */
export interface ProcReader {
  /** Text of /proc/net/tcp or /proc/net/tcp6 ('' when unreadable). */
  tcpTable(family: 'tcp' | 'tcp6'): Promise<string>;
  /** Link targets of /proc/<pid>/fd/* (e.g. `socket:[12345]`); [] when unreadable (gone, not ours). */
  fdTargets(pid: number): Promise<string[]>;
}

export const procFs: ProcReader = {
  async tcpTable(family) {
    try {
      return await readFile(`/proc/net/${family}`, 'utf8');
    } catch {
      return '';
    }
  },
  async fdTargets(pid) {
    let names: string[];
    try {
      names = await readdir(`/proc/${pid}/fd`);
    } catch {
      return [];
    }
    const targets = await Promise.all(names.map((name) => readlink(`/proc/${pid}/fd/${name}`).catch(() => null))); // null: closed meanwhile
    return targets.filter((target): target is string => target !== null);
  },
};

const UNKNOWN = Symbol('unknown');

/**
 * Tells the runner's HTTP connections from those of any other local process. The service tells
 * the tokenizer process (IPC `runner`) the pid of the runner it started; a connection is the
 * runner's when the kernel's socket table shows its client end (peer port → socket inode) held
 * open by that pid (/proc/<pid>/fd). Checked once per connection (the runner opens one per call).
 * Until the service names a runner (the server run alone, for debugging), every caller is taken for it.
 */
export class RunnerConnections {
  private pid: number | null | typeof UNKNOWN = UNKNOWN;
  private readonly verdicts = new WeakMap<Socket, { pid: number | null; runner: Promise<boolean> }>();

  constructor(private readonly proc: ProcReader = procFs) {}

  setRunner(pid: number | null): void {
    this.pid = pid;
  }

  /** Whether the runner holds the other end of `socket`; looked up once per connection and runner. */
  isRunner(socket: Socket): Promise<boolean> {
    const pid = this.pid;
    if (pid === UNKNOWN) return Promise.resolve(true);
    if (pid === null) return Promise.resolve(false);
    const known = this.verdicts.get(socket);
    if (known && known.pid === pid) return known.runner;
    const runner = this.holds(pid, socket);
    this.verdicts.set(socket, { pid, runner });
    return runner;
  }

  private async holds(pid: number, socket: Socket): Promise<boolean> {
    const { remotePort, localPort } = socket;
    if (remotePort === undefined || localPort === undefined) return false;
    const [inode, targets] = await Promise.all([this.clientInode(remotePort, localPort), this.proc.fdTargets(pid)]);
    return inode !== null && targets.includes(`socket:[${inode}]`);
  }

  /** Inode of the socket whose local port is the peer's and remote port is ours (the client's end). */
  private async clientInode(peerPort: number, ourPort: number): Promise<string | null> {
    // One native regular-expression pass over the table finds the candidate lines (a TIME-WAIT socket
    // on the same ports has inode 0); only those are split into fields.
    const line = new RegExp(`^\\s*\\d+: [0-9A-F]+:${hexPort(peerPort)} [0-9A-F]+:${hexPort(ourPort)} .*$`, 'gm');
    for (const family of ['tcp', 'tcp6'] as const) {
      for (const [candidate] of (await this.proc.tcpTable(family)).matchAll(line)) {
        const inode = candidate.trim().split(/\s+/)[9];
        if (inode !== undefined && inode !== '0') return inode;
      }
    }
    return null;
  }
}

function hexPort(port: number): string {
  return port.toString(16).toUpperCase().padStart(4, '0');
}
