import type { SamplingConfig } from '@qwen/config';
import { join } from 'node:path';
import type { RunnerWorkFile } from './runner-process';
import { POST_CONFIG_FILE } from './upstream-launch';

/**
 * The post_config.json the runner is started with: the model repository's own file (copied as is;
 * none there = none here, and the runner decodes greedily as it would in the model directory), or
 * one generated from our configuration, with the runner's key names.
 */
export function postConfigFile(modelDir: string, sampling: SamplingConfig | undefined): RunnerWorkFile {
  if (!sampling || sampling.source === 'model') return { copyFrom: join(modelDir, POST_CONFIG_FILE) };
  const json = {
    enable_repetition_penalty: sampling.enableRepetitionPenalty,
    enable_temperature: sampling.enableTemperature,
    enable_top_k_sampling: sampling.enableTopK,
    enable_top_p_sampling: sampling.enableTopP,
    penalty_window: sampling.penaltyWindow,
    repetition_penalty: sampling.repetitionPenalty,
    temperature: sampling.temperature,
    top_k: sampling.topK,
    top_p: sampling.topP,
  };
  return { content: `${JSON.stringify(json, null, 4)}\n` };
}
