import { join } from 'node:path';

/**
 * How the upstream launch script (`run_qwen2.5_1.5b_gptq_int4_axcl_*.sh`) starts the runner.
 * Its paths are relative to the model directory; the service gives them absolute (`modelDir`) and
 * starts the runner in a directory of its own, where it writes the post_config.json to use.
 * Shared by ModelModule (production), the emulated model directory and the emulator's tests.
 */

/** Folder of the model files inside the upstream repository. */
export const UPSTREAM_MODEL_SUBDIR = 'qwen2.5-1.5b-gptq-int4-ax650';
/** Folder of the Hugging Face tokenizer files inside the upstream repository. */
export const UPSTREAM_TOKENIZER_SUBDIR = 'qwen2.5_tokenizer';
/** Number of decoder layer files (`qwen2_p128_l0_together.axmodel` … `l27`). */
export const UPSTREAM_LAYER_COUNT = 28;
/** The runner binaries of the AXCL host build, by Node's `process.arch`. */
export const UPSTREAM_RUNNER_BINARIES = { arm64: 'main_axcl_aarch64', x64: 'main_axcl_x86' } as const;

export const UPSTREAM_LAYER_TEMPLATE = `${UPSTREAM_MODEL_SUBDIR}/qwen2_p128_l%d_together.axmodel`;
export const UPSTREAM_POST_MODEL = `${UPSTREAM_MODEL_SUBDIR}/qwen2_post.axmodel`;
export const UPSTREAM_TOKENS_EMBED = `${UPSTREAM_MODEL_SUBDIR}/model.embed_tokens.weight.bfloat16.bin`;

/** Every model file the runner opens at init, relative to the model directory. */
export function upstreamModelFiles(): string[] {
  const layers = Array.from({ length: UPSTREAM_LAYER_COUNT }, (_, i) => UPSTREAM_LAYER_TEMPLATE.replace('%d', String(i)));
  return [...layers, UPSTREAM_POST_MODEL, UPSTREAM_TOKENS_EMBED];
}

/** The sampling file the runner reads from its working directory, once, at load. */
export const POST_CONFIG_FILE = 'post_config.json';

/**
 * The upstream script's flags, with our tokenizer's base URL and the `--prompt` value
 * (`""` = no initial turn, straight to the `>> ` loop). With `modelDir`, the model paths are under
 * it (absolute when it is); without, relative (the runner must then run in the model directory).
 */
export function upstreamRunnerArgs(tokenizerUrl: string, prompt: string, modelDir?: string): string[] {
  const at = (path: string) => (modelDir === undefined ? path : join(modelDir, path));
  return [
    '--template_filename_axmodel', at(UPSTREAM_LAYER_TEMPLATE),
    '--axmodel_num', String(UPSTREAM_LAYER_COUNT),
    '--tokenizer_type', '2',
    '--filename_tokenizer_model', tokenizerUrl,
    '--bos', '0',
    '--eos', '0',
    '--filename_post_axmodel', at(UPSTREAM_POST_MODEL),
    '--filename_tokens_embed', at(UPSTREAM_TOKENS_EMBED),
    '--tokens_embed_num', '151936',
    '--tokens_embed_size', '1536',
    '--use_mmap_load_embed', '0',
    '--live_print', '1',
    '--continue', '1',
    '--prompt', prompt,
  ];
}
