/**
 * The output seen on the card when the NPU dies mid-session: a `device 1 is dead` warning from the
 * AXCL device manager followed by hundreds of `[C][device][print]` lines, then nothing.
 */
export function deviceDeadBurst(pid: number, now: Date, lines = 300): string {
  const out = [`[${stamp(now)}][${pid}][W][device manager][listen][292]: device 1 is dead`];
  for (let i = 0; i < lines; i++) {
    const at = new Date(now.getTime() + Math.floor(i / 50));
    const register = (0x100 + 4 * i).toString(16).padStart(8, '0');
    out.push(`[${stamp(at)}][${pid}][C][device][print][75]: device 1 dump: reg[0x${register}] = 0xffffffff`);
  }
  return out.join('\n') + '\n';
}

function stamp(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}
