/**
 * Lines of the AXCL runtime itself (not the runner's coloured log records): plain text, no escape
 * codes, `[YYYY-MM-DD HH:MM:SS.mmm][<pid of the process>][<level>][<module>][<function>][<line>]: <text>`,
 * as in test/fixtures/captures/pi5-session-device-dead.bin.
 */
export function runtimeLine(pid: number, at: Date, level: 'W' | 'E' | 'C', module: string, fn: string, line: number, text: string): string {
  return `[${stamp(at)}][${pid}][${level}][${module}][${fn}][${line}]: ${text}\n`;
}

/** Device allocations listed when the device dies: 226 in the real capture. */
export const DEAD_DEVICE_ALLOCATIONS = 226;

/** Sizes seen in the capture's allocation list (layer buffers, KV caches, small control blocks). */
const ALLOCATION_SIZES = [0x4a300, 0xc00, 0xc00, 0xc00, 0x4, 0x80000, 0xc00, 0x4, 0x200, 0xc00, 0x200, 0x80000, 0x200, 0x802];

/**
 * What the runtime printed when the NPU died (the real capture): the device manager's warning, then
 * its dump of the device memory still allocated — a header with the count and one line per
 * allocation — then nothing more. The first line at `at`, the rest 1 ms later, like the capture.
 * Addresses are made up (descending 4 KiB pages); the formats, levels, modules and line numbers are the capture's.
 */
export function deviceDeadBurst(pid: number, at: Date, allocations = DEAD_DEVICE_ALLOCATIONS): string {
  const later = new Date(at.getTime() + 1);
  let out = runtimeLine(pid, at, 'W', 'device manager', 'listen', 292, 'device 1 is dead');
  out += runtimeLine(pid, later, 'C', 'device', 'print', 18, `allocated device memories: ${allocations}`);
  for (let i = 0; i < allocations; i++) {
    const address = (0x162915000 - i * 0x1000).toString(16);
    const size = ALLOCATION_SIZES[i % ALLOCATION_SIZES.length].toString(16);
    out += runtimeLine(pid, later, 'C', 'device', 'print', 20, `[0x${address}] : 0x${size} bytes`);
  }
  return out;
}

/** Local time with milliseconds, as the runtime writes it. */
function stamp(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}
