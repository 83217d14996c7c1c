import { UPSTREAM_LAYER_COUNT } from '@qwen/model';

/**
 * Facts about the served model that Ollama clients ask for, and the few fixed choices of the
 * Ollama dialect. The model facts come from ../shared/runner-protocol.md (the upstream repository
 * and the runner's launch flags), not from guesses.
 */


/** The upstream model repository and the commit the project pins (scripts/download_models.sh). */
export const UPSTREAM_MODEL_REPOSITORY = 'AXERA-TECH/Qwen2.5-1.5B-Instruct-GPTQ-Int4';
export const UPSTREAM_MODEL_COMMIT = '01d5a6eb90d9be5dd3de32518ec99c04d9ae5da5';


/** `details` of /api/tags, /api/show and /api/ps. */
export const OLLAMA_MODEL_DETAILS = {
  parent_model: '',
  format: 'axmodel',
  family: 'qwen2',
  families: ['qwen2'],
  parameter_size: '1.5B',
  quantization_level: 'GPTQ-Int4',
} as const;

/** Architecture facts for /api/show `model_info` (the runner's launch flags: 28 layers, 1536-wide embeddings). */
export const QWEN2_ARCHITECTURE = {
  basename: 'Qwen2.5-1.5B-Instruct',
  parameterCount: 1_543_714_304,
  blockCount: UPSTREAM_LAYER_COUNT,
  embeddingLength: 1536,
  vocabSize: 151_936,
} as const;

/**
 * /api/ps `expires_at`: the model never unloads on its own (keep_alive is accepted but the one
 * runner stays loaded), which Ollama shows as a far-future expiry.
 */
export const OLLAMA_NEVER_EXPIRES = '2318-01-01T00:00:00Z';

/** Content type of Ollama's streamed answers. */
export const NDJSON_CONTENT_TYPE = 'application/x-ndjson';

/** Largest JSON body read when the client did not say `Content-Type: application/json` (curl -d). */
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;

/** Response headers of the Ollama dialect (besides the pipeline's X-Qwen-Sampling / X-Request-Id). */
export const IGNORED_OPTIONS_HEADER = 'X-Qwen-Ignored-Options';
export const NUM_CTX_HEADER = 'X-Qwen-Num-Ctx';
