import type { ModelSnapshot } from '@qwen/model';
import type { TokenizerSnapshot } from '@qwen/tokenizer';

/** Snapshots for specs: a loaded, idle model and a ready tokenizer, with the given changes. */
export function modelSnapshot(patch: Partial<ModelSnapshot> = {}): ModelSnapshot {
  return {
    state: 'ready',
    progress: null,
    pid: 4242,
    startedAt: new Date(Date.now() - 65_000).toISOString(),
    loads: 1,
    restarts: 0,
    consecutiveFailures: 0,
    lastError: null,
    outputTail: [],
    maxTokenLen: 1024,
    sampling: { temperature: 0.9, top_k: 10 },
    deviceDead: false,
    lastTokensPerSecond: 13.28,
    queue: { length: 0, limit: 16, inFlight: 0 },
    prompt: { budgetTokens: 1024, answerReserveTokens: 256, lastPromptTokens: 600, lastExpectedPrefillMs: 45_180 },
    oldestWaitMs: null,
    estimatedWaitMs: 0,
    turn: null,
    ...patch,
  };
}

export function tokenizerSnapshot(patch: Partial<TokenizerSnapshot> = {}): TokenizerSnapshot {
  return { state: 'ready', mode: 'builtin', pid: 4141, port: 12345, restarts: 0, lastError: null, source: 'npm-package', limitations: [], ...patch };
}
