import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { Socket } from 'node:net';

/** Reads what the kernel says about sockets and processes (/proc); swapped in tests. */
export interface ProcReader {
  /** Text of /proc/net/tcp or /proc/net/tcp6 ('' when unreadable). */
  tcpTable(family: 'tcp' | 'tcp6'): string;
  /** Link targets of /proc/<pid>/fd/* (e.g. `socket:[12345]`); [] when unreadable (gone, not ours). */
  fdTargets(pid: number): string[];
}

export const procFs: ProcReader = {
  tcpTable(family) {
    try {
      return readFileSync(`/proc/net/${family}`, 'utf8');
    } catch {
      return '';
    }
  },
  fdTargets(pid) {
    let names: string[];
    try {
      names = readdirSync(`/proc/${pid}/fd`);
    } catch {
      return [];
    }
    const targets: string[] = [];
    for (const name of names) {
      try {
        targets.push(readlinkSync(`/proc/${pid}/fd/${name}`));
      } catch {
        // closed meanwhile
      }
    }
    return targets;
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
  private readonly verdicts = new WeakMap<Socket, { pid: number | null; runner: boolean }>();

  constructor(private readonly proc: ProcReader = procFs) {}

  setRunner(pid: number | null): void {
    this.pid = pid;
  }

  isRunner(socket: Socket): boolean {
    const pid = this.pid;
    if (pid === UNKNOWN) return true;
    if (pid === null) return false;
    const known = this.verdicts.get(socket);
    if (known && known.pid === pid) return known.runner;
    const runner = this.holds(pid, socket);
    this.verdicts.set(socket, { pid, runner });
    return runner;
  }

  private holds(pid: number, socket: Socket): boolean {
    const { remotePort, localPort } = socket;
    if (remotePort === undefined || localPort === undefined) return false;
    const inode = this.clientInode(remotePort, localPort);
    if (inode === null) return false;
    return this.proc.fdTargets(pid).includes(`socket:[${inode}]`);
  }

  /** Inode of the socket whose local port is the peer's and remote port is ours (the client's end). */
  private clientInode(peerPort: number, ourPort: number): string | null {
    const local = `:${hexPort(peerPort)}`;
    const remote = `:${hexPort(ourPort)}`;
    for (const family of ['tcp', 'tcp6'] as const) {
      for (const line of this.proc.tcpTable(family).split('\n').slice(1)) {
        const fields = line.trim().split(/\s+/);
        if (fields.length < 10) continue;
        if (fields[1].endsWith(local) && fields[2].endsWith(remote) && fields[9] !== '0') return fields[9];
      }
    }
    return null;
  }
}

function hexPort(port: number): string {
  return port.toString(16).toUpperCase().padStart(4, '0');
}
