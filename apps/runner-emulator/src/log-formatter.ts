/**
 * The runner's log macros (ALOGI/ALOGN/ALOGW/ALOGE):
 * `ESC[1;30;3Xm[L][%32s][%4d]: <text>ESC[0m\n` — colour codes are written even to a pipe.
 */
export type LogLevel = 'I' | 'N' | 'W' | 'E';

const COLOUR: Record<LogLevel, string> = { I: '2', N: '5', W: '3', E: '1' };

export class LogFormatter {
  format(level: LogLevel, functionName: string, line: number, text: string): string {
    return `\x1b[1;30;3${COLOUR[level]}m[${level}][${functionName.padStart(32)}][${String(line).padStart(4)}]: ${text}\x1b[0m\n`;
  }
}

/** C printf("%.2f") of a double, including its spelling of infinities and NaN. */
export function printfFixed2(value: number): string {
  if (Number.isNaN(value)) return '-nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  return value.toFixed(2);
}
