import type { ModelSnapshot } from '@qwen/model';
import type { TokenizerSnapshot } from '@qwen/tokenizer';
import type { NpuStatus } from './npu/npu-status.service';

/**
 * - `ok`: can serve now;
 * - `degraded`: serving is impaired or recovering (starting or restarting, queue full, card tool hung);
 * - `down`: cannot serve until something changes (a failed tokenizer or runner, a dead card, stopped).
 */
export type HealthLevel = 'ok' | 'degraded' | 'down';

export interface Assessment {
  level: HealthLevel;
  /** Can this dependency take a request right now? (readiness) */
  ready: boolean;
  /** Why it is not ok, in words; null when ok. */
  reason: string | null;
}

const ORDER: HealthLevel[] = ['ok', 'degraded', 'down'];

export function worstLevel(levels: HealthLevel[]): HealthLevel {
  return levels.reduce<HealthLevel>((worst, level) => (ORDER.indexOf(level) > ORDER.indexOf(worst) ? level : worst), 'ok');
}

export function assessTokenizer(s: TokenizerSnapshot): Assessment {
  switch (s.state) {
    case 'ready':
      return { level: 'ok', ready: true, reason: null };
    case 'starting':
      return { level: 'degraded', ready: false, reason: 'the tokenizer is starting' };
    case 'restarting':
      return { level: 'degraded', ready: false, reason: `the tokenizer is restarting${s.lastError ? ` after: ${s.lastError}` : ''}` };
    case 'failed':
      return { level: 'down', ready: false, reason: `the tokenizer failed: ${s.lastError ?? 'unknown error'}` };
    case 'stopped':
      return { level: 'down', ready: false, reason: 'the tokenizer is stopped' };
  }
}

/**
 * The first load after start-up is `degraded`, not `down`: the service is on its way to serving
 * (18-29 s on the card) and nothing is wrong; readiness (GET /health/ready) stays 503 meanwhile,
 * which is what load balancers and clients that wait should use.
 */
export function assessModel(s: ModelSnapshot): Assessment {
  if (s.deviceDead) {
    return { level: 'down', ready: false, reason: `${s.lastError ?? 'the NPU device is dead'}; only a reboot of the machine helps` };
  }
  switch (s.state) {
    case 'ready':
    case 'busy': {
      const { length, limit, inFlight } = s.queue;
      if (inFlight > 0 && length >= limit) {
        return { level: 'degraded', ready: true, reason: `the queue is full (${length} waiting, limit ${limit}): new requests are refused` };
      }
      return { level: 'ok', ready: true, reason: null };
    }
    case 'waiting-for-tokenizer':
    case 'loading': {
      const first = s.loads <= 1 && s.restarts === 0;
      const step = s.progress ? ` (step ${s.progress.step}/${s.progress.total}: ${s.progress.text})` : '';
      const what = s.state === 'waiting-for-tokenizer' ? 'waiting for the tokenizer before loading' : 'loading';
      return { level: 'degraded', ready: false, reason: `the model is ${what}${first ? ' for the first time since start-up' : ' again'}${step}` };
    }
    case 'restarting':
      return { level: 'degraded', ready: false, reason: `the runner is restarting${s.lastError ? ` after: ${s.lastError}` : ''}` };
    case 'failed':
      return {
        level: 'down',
        ready: false,
        reason: `the model failed: ${s.lastError ?? 'unknown error'}; fix the cause, then POST /admin/reload`,
      };
    case 'stopped':
      return { level: 'down', ready: false, reason: 'the model is stopped' };
  }
}

/** The card tool is informative: a missing tool is fine; a hung tool or no card is a warning sign. */
export function assessNpu(s: NpuStatus): Assessment {
  switch (s.state) {
    case 'ok':
    case 'unknown':
      return { level: 'ok', ready: true, reason: null };
    case 'timeout':
    case 'no-card':
      return { level: 'degraded', ready: true, reason: s.message };
  }
}
