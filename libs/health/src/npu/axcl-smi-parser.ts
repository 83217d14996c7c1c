/**
 * Reads the table `axcl-smi` (AXCL host package) prints, e.g.
 *
 * ```
 * | AXCL-SMI  V3.6.2_20250603154858                                 Driver  V3.6.2_20250603154858 |
 * | Card  Name                     Firmware | Bus-Id       |                          Memory-Usage |
 * | Fan   Temp                Pwr:Usage/Cap | CPU      NPU |                             CMM-Usage |
 * |    0  AX8850                     V3.6.2 | 0001:01:00.0 |                183 MiB /      945 MiB |
 * |   --   61C                      -- / -- | 4%       37% |               1642 MiB /     7040 MiB |
 * | Card      PID  Process Name                                                   NPU Memory Usage |
 * |    0     2841  ./main_axcl_aarch64                                                 1614236 KiB |
 * ```
 *
 * Tolerant: it looks for each value by its shape, not by column positions, and leaves out what it
 * cannot read (null) instead of failing; another layout still yields whatever matches.
 */

export interface MemoryUsage {
  usedMiB: number;
  totalMiB: number;
}

export interface NpuCard {
  index: number;
  name: string | null;
  firmware: string | null;
  busId: string | null;
  temperatureC: number | null;
  cpuUsagePercent: number | null;
  npuUsagePercent: number | null;
  /** The card's system memory. */
  memory: MemoryUsage | null;
  /** The card's media memory (CMM), where the model lives. */
  cmm: MemoryUsage | null;
}

export interface NpuProcess {
  card: number;
  pid: number;
  name: string;
  npuMemoryMiB: number;
}

export interface AxclSmiReport {
  toolVersion: string | null;
  driverVersion: string | null;
  cards: NpuCard[];
  processes: NpuProcess[];
}

const UNIT_TO_MIB: Record<string, number> = { kib: 1 / 1024, kb: 1 / 1024, mib: 1, mb: 1, gib: 1024, gb: 1024 };
const MEMORY = /(\d+(?:\.\d+)?)\s*([KMG]i?B)\s*\/\s*(\d+(?:\.\d+)?)\s*([KMG]i?B)/i;
const BUS_ID = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-9a-f]$/i;

export function parseAxclSmi(output: string): AxclSmiReport {
  const report: AxclSmiReport = {
    toolVersion: match(output, /AXCL-SMI\s+(V?[\w.-]+)/i),
    driverVersion: match(output, /Driver\s+(V?[\w.-]+)/i),
    cards: [],
    processes: [],
  };
  let inProcesses = false;
  let current: NpuCard | null = null;
  for (const line of output.split(/\r?\n/)) {
    if (/processes:/i.test(line)) inProcesses = true;
    const cells = tableCells(line);
    if (!cells) continue;
    if (inProcesses) {
      const process = parseProcess(cells);
      if (process) report.processes.push(process);
      continue;
    }
    const card = parseCardFirstRow(cells);
    if (card) {
      current = card;
      report.cards.push(card);
    } else if (current && parseCardSecondRow(cells, current)) {
      current = null;
    }
  }
  return report;
}

/** The trimmed cells of a `| a | b |` table row; null for borders, rules and other lines. */
function tableCells(line: string): string[] | null {
  const trimmed = line.trim();
  if (!trimmed.startsWith('|') || /^\|[=+\-|\s]*\|$/.test(trimmed)) return null;
  return trimmed
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split('|')
    .map((cell) => cell.trim());
}

/** `0  AX8850  V3.6.2 | 0001:01:00.0 | 183 MiB / 945 MiB` */
function parseCardFirstRow(cells: string[]): NpuCard | null {
  const head = /^(\d+)\s+(\S+)(?:\s+(\S+))?$/.exec(cells[0] ?? '');
  if (!head) return null;
  const busId = cells.find((cell) => BUS_ID.test(cell)) ?? null;
  if (!busId && !cells.some((cell) => MEMORY.test(cell))) return null;
  return {
    index: Number(head[1]),
    name: head[2],
    firmware: head[3] ?? null,
    busId,
    temperatureC: null,
    cpuUsagePercent: null,
    npuUsagePercent: null,
    memory: memory(cells.slice(1).find((cell) => MEMORY.test(cell))),
    cmm: null,
  };
}

/** `--  61C  -- / -- | 4%  37% | 1642 MiB / 7040 MiB` */
function parseCardSecondRow(cells: string[], card: NpuCard): boolean {
  const temperature = /(-?\d+(?:\.\d+)?)\s*°?C\b/.exec(cells[0] ?? '');
  const usage = cells.map((cell) => /^(\d+(?:\.\d+)?)%\s+(\d+(?:\.\d+)?)%$/.exec(cell)).find(Boolean);
  const cmm = memory(cells.slice(1).find((cell) => MEMORY.test(cell)));
  if (!temperature && !usage && !cmm) return false;
  card.temperatureC = temperature ? Number(temperature[1]) : null;
  card.cpuUsagePercent = usage ? Number(usage[1]) : null;
  card.npuUsagePercent = usage ? Number(usage[2]) : null;
  card.cmm = cmm;
  return true;
}

/** `0  2841  ./main_axcl_aarch64  1614236 KiB` */
function parseProcess(cells: string[]): NpuProcess | null {
  const row = /^(\d+)\s+(\d+)\s+(.+?)\s+(\d+(?:\.\d+)?)\s*([KMG]i?B)$/i.exec(cells.join(' ').trim());
  if (!row) return null;
  return { card: Number(row[1]), pid: Number(row[2]), name: row[3], npuMemoryMiB: round(Number(row[4]) * UNIT_TO_MIB[row[5].toLowerCase()]) };
}

function memory(cell: string | undefined): MemoryUsage | null {
  const m = cell ? MEMORY.exec(cell) : null;
  if (!m) return null;
  return {
    usedMiB: round(Number(m[1]) * UNIT_TO_MIB[m[2].toLowerCase()]),
    totalMiB: round(Number(m[3]) * UNIT_TO_MIB[m[4].toLowerCase()]),
  };
}

function match(text: string, pattern: RegExp): string | null {
  return pattern.exec(text)?.[1] ?? null;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
