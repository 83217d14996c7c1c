import type { NpuConfig } from '@qwen/config';

/** Injection token of HealthModule's options. */
export const HEALTH_OPTIONS = Symbol('HEALTH_OPTIONS');

export interface HealthIndicatorTimeouts {
  tokenizer: number;
  model: number;
  npu: number;
}

export interface HealthModuleOptions {
  /** axcl-smi: path, its own timeout and how long its answer is reused. */
  npu: NpuConfig;
  /** The service's version (package.json); HealthModule.register reads it when absent. */
  version?: string;
  /** Each indicator's own deadline, ms; a late indicator is reported down with a timeout message. */
  indicatorTimeouts?: Partial<HealthIndicatorTimeouts>;
}
