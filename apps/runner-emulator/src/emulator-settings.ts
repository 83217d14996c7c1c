import { readFileSync, unlinkSync } from 'node:fs';

/** Faults that apply to one turn (counted in generated tokens of that turn). */
export interface TurnFaults {
  crashAfterTokens: number | null;
  deviceDeadAfterTokens: number | null;
  hangAfterTokens: number | null;
}

/**
 * How start-up fails (QWEN_EMU_FAIL_INIT / `failInit` in the fault file):
 * - `axmodel`: the first layer cannot be loaded (`[E] init axmodel(…) failed`, status 255);
 * - `device-permission`: the card refuses the service user (`Set AXCL device failed{0x80300186}.` and
 *   `request ports … Operation not permitted`), then the layer failure, status 255;
 * - `no-driver`: the driver is not loaded (`axcl init fail, ret = 0x8030010b` and
 *   `open /dev/axcl_host fail, errno: 2 …`), then the layer failure, status 255.
 */
export const INIT_FAILURES = ['axmodel', 'device-permission', 'no-driver'] as const;
export type InitFailure = (typeof INIT_FAILURES)[number];

/** What a Ctrl-C does to the step (prompt or generated token) running when it arrives. */
export type CtrlCStep =
  /** The step is cut short by the stop-flag check before one of its 28 layers: no token (the usual case). */
  | 'abandon'
  /** The step had passed its last layer check: it still samples its token (printed if it completes a 3-token chunk). */
  | 'finish';

export interface EmulatorSettings {
  /** Total model load time, spread over the progress steps. */
  loadMs: number;
  /** Time per generated token. */
  tokenMs: number;
  /** Time per prompt token (this build has no batched prefill). */
  promptTokenMs: number;
  /** The reply is the last user message repeated this many times, then eos. */
  repeat: number;
  failInit: InitFailure | null;
  faults: TurnFaults;
  /** The device dies after the runner has sat this long at `>> ` (the real capture's failure). */
  deviceDeadIdleMs: number | null;
  ctrlCStep: CtrlCStep;
  startLog: string | null;
  faultFile: string | null;
  /** `>> ` prompts printed after end of file on stdin before giving up with status 1. */
  eofSpinLimit: number;
}

export const NO_FAULTS: TurnFaults = { crashAfterTokens: null, deviceDeadAfterTokens: null, hangAfterTokens: null };

/** Reads the QWEN_EMU_* variables (documented in main.ts). Throws on a malformed value. */
export function readEmulatorSettings(env: NodeJS.ProcessEnv): EmulatorSettings {
  const tokenMs = count(env, 'QWEN_EMU_TOKEN_MS') ?? 71;
  return {
    loadMs: count(env, 'QWEN_EMU_LOAD_MS') ?? 20000,
    tokenMs,
    promptTokenMs: count(env, 'QWEN_EMU_PROMPT_TOKEN_MS') ?? tokenMs,
    repeat: count(env, 'QWEN_EMU_REPEAT') ?? 1,
    failInit: initFailure('QWEN_EMU_FAIL_INIT', env.QWEN_EMU_FAIL_INIT),
    faults: {
      crashAfterTokens: count(env, 'QWEN_EMU_CRASH_AFTER_TOKENS'),
      deviceDeadAfterTokens: count(env, 'QWEN_EMU_DEVICE_DEAD_AFTER_TOKENS'),
      hangAfterTokens: count(env, 'QWEN_EMU_HANG_AFTER_TOKENS'),
    },
    deviceDeadIdleMs: count(env, 'QWEN_EMU_DEVICE_DEAD_IDLE_MS'),
    ctrlCStep: ctrlCStep(env.QWEN_EMU_CTRL_C_STEP),
    startLog: env.QWEN_EMU_START_LOG || null,
    faultFile: env.QWEN_EMU_FAULT_FILE || null,
    eofSpinLimit: count(env, 'QWEN_EMU_EOF_SPIN_LIMIT') ?? 100000,
  };
}

function count(env: NodeJS.ProcessEnv, name: string): number | null {
  const raw = env[name];
  if (raw === undefined || raw === '') return null;
  if (!/^\d+$/.test(raw.trim())) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return Number(raw.trim());
}

/** `1`/`true` (the first kind, kept for existing callers), a kind name, or unset / `0` / `false` for none. */
export function initFailure(name: string, raw: unknown): InitFailure | null {
  if (raw === undefined || raw === '' || raw === '0' || raw === 'false' || raw === false || raw === null) return null;
  if (raw === '1' || raw === 'true' || raw === true) return 'axmodel';
  if (typeof raw === 'string' && (INIT_FAILURES as readonly string[]).includes(raw)) return raw as InitFailure;
  throw new Error(`${name} must be 1, ${INIT_FAILURES.join(', ')} or unset, got "${String(raw)}"`);
}

function ctrlCStep(raw: string | undefined): CtrlCStep {
  if (raw === undefined || raw === '' || raw === 'abandon') return 'abandon';
  if (raw === 'finish') return 'finish';
  throw new Error(`QWEN_EMU_CTRL_C_STEP must be abandon or finish, got "${raw}"`);
}

/** A one-off fault written by a test: `{"crashAfterTokens": 2}` etc. (same names as the variables, camelCase). */
export interface FaultFileContent extends Partial<TurnFaults> {
  /** true (= `axmodel`) or an {@link InitFailure} kind. */
  failInit?: boolean | InitFailure;
  repeat?: number;
  /** While the runner sits at `>> `: the device dies after this many ms. */
  deviceDeadIdleMs?: number;
}

/**
 * QWEN_EMU_FAULT_FILE: read when a request line arrives (and at start-up for `failInit`, and while
 * idle at `>> ` for `deviceDeadIdleMs`), deleted when consumed, so a test can inject a fault into
 * one request of a running emulator.
 */
export class FaultFile {
  constructor(private readonly path: string | null) {}

  /** Whether a file is set at all (otherwise nothing is ever read). */
  get configured(): boolean {
    return this.path !== null;
  }

  /** At start-up: the init failure it asks for (the file is then consumed), or null. */
  takeFailInit(): InitFailure | null {
    const content = this.read();
    const failure = initFailure('failInit', content?.failInit);
    if (failure) this.remove();
    return failure;
  }

  /** While idle at `>> `: the delay before the device dies, when the file asks for it (the file is then consumed). */
  takeDeviceDeadIdleMs(): number | null {
    const content = this.read();
    const ms = content?.deviceDeadIdleMs;
    if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 0) return null;
    this.remove();
    return ms;
  }

  /** When a request line arrives: the file's faults for this turn (the file is consumed). */
  takeForRequest(): FaultFileContent | null {
    const content = this.read();
    if (content) this.remove();
    return content;
  }

  private read(): FaultFileContent | null {
    if (!this.path) return null;
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch {
      return null;
    }
    try {
      const parsed: unknown = JSON.parse(text);
      return parsed && typeof parsed === 'object' ? (parsed as FaultFileContent) : null;
    } catch {
      return null; // half-written: try again with the next request
    }
  }

  private remove(): void {
    try {
      if (this.path) unlinkSync(this.path);
    } catch {
      // already gone
    }
  }
}

/** The env faults, overridden by the fault file's values for this turn. */
export function mergeFaults(base: TurnFaults, oneOff: FaultFileContent | null): TurnFaults {
  if (!oneOff) return base;
  return {
    crashAfterTokens: oneOff.crashAfterTokens ?? base.crashAfterTokens,
    deviceDeadAfterTokens: oneOff.deviceDeadAfterTokens ?? base.deviceDeadAfterTokens,
    hangAfterTokens: oneOff.hangAfterTokens ?? base.hangAfterTokens,
  };
}
