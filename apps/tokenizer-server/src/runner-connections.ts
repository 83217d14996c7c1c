import { closeSync, openSync, readdirSync, readlinkSync, readSync } from 'node:fs';
import type { Socket } from 'node:net';

/**
 * Reads what the kernel says about sockets and processes (/proc); swapped in tests.
 *
 * The socket table lists every TCP socket of the host, TIME-WAIT ones included, and the runner leaves
 * one per call (a new connection each time): ~300 lines at the card's pace, thousands when the emulator
 * runs flat out. It is read synchronously (the kernel hands it out about 4 KB per read; a thread-pool
 * round trip per 4 KB was slower under load than the reads themselves), and only until the line sought.
 */
export interface ProcReader {
  /** The first line of /proc/net/tcp or /proc/net/tcp6 matching `line` (a regular expression without flags), or null. */
  findSocketLine(family: 'tcp' | 'tcp6', line: RegExp): string | null;
  /** Link targets of /proc/<pid>/fd/* (e.g. `socket:[12345]`); [] when unreadable (gone, not ours). */
  fdTargets(pid: number): string[];
}

const TABLE_CHUNK_BYTES = 64 * 1024;

/**
 * The first line of the file at `path` matching `line` (no flags), read 64 KB at a time and no further
 * than that line; null when none matches or the file is unreadable.
 */
export function findLineInFile(path: string, line: RegExp): string | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  const anywhere = new RegExp(line.source, 'm');
  const buffer = Buffer.allocUnsafe(TABLE_CHUNK_BYTES);
  let carry = ''; // a line cut by the end of the previous read
  try {
    for (;;) {
      const read = readSync(fd, buffer, 0, buffer.length, null);
      const text = carry + buffer.toString('latin1', 0, read);
      const complete = read === 0 ? text.length : text.lastIndexOf('\n') + 1; // whole lines only, until the end
      const match = anywhere.exec(text.slice(0, complete));
      if (match) return match[0];
      if (read === 0) return null;
      carry = text.slice(complete);
    }
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

export const procFs: ProcReader = {
  findSocketLine: (family, line) => findLineInFile(`/proc/net/${family}`, line),
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

  /** Whether the runner holds the other end of `socket`; looked up once per connection and runner. */
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
    return inode !== null && this.proc.fdTargets(pid).includes(`socket:[${inode}]`);
  }

  /**
   * Inode of the socket whose local port is the peer's and remote port is ours (the client's end),
   * in a live state: a TIME-WAIT socket on the same ports (state 06) has inode 0.
   */
  private clientInode(peerPort: number, ourPort: number): string | null {
    const line = new RegExp(`^ *\\d+: [0-9A-F]+:${hexPort(peerPort)} [0-9A-F]+:${hexPort(ourPort)} (?!06 ).*$`);
    for (const family of ['tcp', 'tcp6'] as const) {
      const found = this.proc.findSocketLine(family, line);
      const inode = found?.trim().split(/\s+/)[9];
      if (inode !== undefined && inode !== '0') return inode;
    }
    return null;
  }
}

function hexPort(port: number): string {
  return port.toString(16).toUpperCase().padStart(4, '0');
}
