import { readFileSync, unlinkSync } from 'node:fs';

/** Faults that apply to one turn (counted in generated tokens of that turn). */
export interface TurnFaults {
  crashAfterTokens: number | null;
  deviceDeadAfterTokens: number | null;
  hangAfterTokens: number | null;
}

export interface EmulatorSettings {
  /** Total model load time, spread over the progress steps. */
  loadMs: number;
  /** Time per generated token. */
  tokenMs: number;
  /** Time per prompt token (this build has no batched prefill). */
  promptTokenMs: number;
  /** The reply is the last user message repeated this many times, then eos. */
  repeat: number;
  failInit: boolean;
  faults: TurnFaults;
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
    failInit: env.QWEN_EMU_FAIL_INIT === '1' || env.QWEN_EMU_FAIL_INIT === 'true',
    faults: {
      crashAfterTokens: count(env, 'QWEN_EMU_CRASH_AFTER_TOKENS'),
      deviceDeadAfterTokens: count(env, 'QWEN_EMU_DEVICE_DEAD_AFTER_TOKENS'),
      hangAfterTokens: count(env, 'QWEN_EMU_HANG_AFTER_TOKENS'),
    },
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

/** A one-off fault written by a test: `{"crashAfterTokens": 2}` etc. (same names as the variables, camelCase). */
export interface FaultFileContent extends Partial<TurnFaults> {
  failInit?: boolean;
  repeat?: number;
}

/**
 * QWEN_EMU_FAULT_FILE: read when a request line arrives (and at start-up for `failInit`),
 * deleted when consumed, so a test can inject a fault into one request of a running emulator.
 */
export class FaultFile {
  constructor(private readonly path: string | null) {}

  /** At start-up: true (and the file is consumed) when it asks for an init failure. */
  takeFailInit(): boolean {
    const content = this.read();
    if (!content?.failInit) return false;
    this.remove();
    return true;
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
