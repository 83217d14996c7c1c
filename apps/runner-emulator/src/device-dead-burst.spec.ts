import { readCapture, segmentsAtPrompts } from '../../../test/fixtures/captures/capture-replay';
import { deviceDeadBurst } from './device-dead-burst';

/** The burst with what legitimately differs (time, pid, addresses, sizes) blanked out. */
function shape(burst: string): string[] {
  return burst
    .trimEnd()
    .split('\n')
    .map((line) =>
      line
        .replace(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\]\[\d+\]/, '[TIME][PID]')
        .replace(/\[0x[0-9a-f]+\] : 0x[0-9a-f]+ bytes$/, '[ADDRESS] : SIZE bytes'),
    );
}

describe('deviceDeadBurst', () => {
  it('has the lines of the real capture: the [W] warning, the [C] count header and 226 [C] allocation lines', () => {
    const capture = segmentsAtPrompts(readCapture('pi5-session-device-dead.bin'));
    const real = capture[capture.length - 1].toString('utf8');
    const emulated = deviceDeadBurst(4242, new Date(2025, 10, 9, 8, 46, 0, 29));
    expect(shape(emulated)).toEqual(shape(real));
    expect(emulated.startsWith('[2025-11-09 08:46:00.029][4242][W][device manager][listen][292]: device 1 is dead\n[2025-11-09 08:46:00.030][4242][C]')).toBe(true);
    expect(emulated).not.toContain('\x1b');
    expect(emulated.endsWith(' bytes\n')).toBe(true);
  });
});
