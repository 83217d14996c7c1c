/**
 * Characters that must never reach the runner's terminal from model text: C0 controls except
 * `\t` and `\n` (ESC, `\r`, ^C, ^D …), DEL, and the C1 controls U+0080–U+009F (8-bit CSI and friends).
 */
const TERMINAL_CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** Drops terminal control characters from text on its way to the runner's terminal. */
export class TextScrubber {
  scrub(text: string): string {
    TERMINAL_CONTROLS.lastIndex = 0;
    return TERMINAL_CONTROLS.test(text) ? text.replace(TERMINAL_CONTROLS, '') : text;
  }
}

/** Shared stateless instance. */
export const textScrubber = new TextScrubber();
