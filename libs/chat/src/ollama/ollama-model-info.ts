import { Inject, Injectable } from '@nestjs/common';
import { ModelService, type ModelSnapshot } from '@qwen/model';
import { createHash } from 'node:crypto';
import { ModelCatalog, UnknownModelError } from '../pipeline/model-catalog';
import { OllamaModelFiles } from './ollama-model-files';
import { OLLAMA_OPTIONS, OllamaModuleOptions } from './ollama.options';
import {
  OLLAMA_MODEL_DETAILS,
  OLLAMA_NEVER_EXPIRES,
  QWEN2_ARCHITECTURE,
  UPSTREAM_MODEL_COMMIT,
  UPSTREAM_MODEL_REPOSITORY,
} from './ollama.constants';

/** One entry of /api/tags (`models[]`). */
export interface OllamaTagEntry {
  name: string;
  model: string;
  modified_at: string;
  size: number;
  digest: string;
  details: typeof OLLAMA_MODEL_DETAILS;
  /** What the model can do (VS Code's Ollama provider lists only models with `tools`). */
  capabilities: string[];
}

/** One entry of /api/ps. */
export interface OllamaRunningEntry extends OllamaTagEntry {
  expires_at: string;
  size_vram: number;
  context_length: number;
}

/** Chat (`completion`) and tool calling; no vision, no embedding, no thinking. */
const OLLAMA_CAPABILITIES = ['completion', 'tools'] as const;

export interface OllamaShowResponse {
  license: string;
  modelfile: string;
  parameters: string;
  template: string;
  details: typeof OLLAMA_MODEL_DETAILS;
  model_info: Record<string, string | number>;
  capabilities: string[];
  modified_at: string;
}

const LICENSE =
  'Qwen2.5-1.5B-Instruct: Apache License 2.0 (the Qwen team). The AXERA runner (ax-llm) and the converted ' +
  `model files: see https://huggingface.co/${UPSTREAM_MODEL_REPOSITORY} (commit ${UPSTREAM_MODEL_COMMIT}).`;

/** The runner's sampling settings (post_config.json keys) as Ollama Modelfile parameters. */
const SAMPLING_PARAMETERS: Array<{ key: string; flag: string; name: string }> = [
  { key: 'temperature', flag: 'enable_temperature', name: 'temperature' },
  { key: 'top_k', flag: 'enable_top_k_sampling', name: 'top_k' },
  { key: 'top_p', flag: 'enable_top_p_sampling', name: 'top_p' },
  { key: 'repetition_penalty', flag: 'enable_repetition_penalty', name: 'repeat_penalty' },
  { key: 'penalty_window', flag: 'enable_repetition_penalty', name: 'repeat_last_n' },
];

/**
 * What the Ollama model endpoints (/api/tags, /api/show, /api/ps, /api/pull) say about the one
 * served model, with true values: its Ollama-style name, the weights' size and date on disk, the
 * sampling and window the runner loaded, the model's own chat template.
 */
@Injectable()
export class OllamaModelInfo {
  private readonly modelDir: string | null;

  constructor(
    private readonly catalog: ModelCatalog,
    @Inject(ModelService) private readonly model: Pick<ModelService, 'snapshot'>,
    private readonly files: OllamaModelFiles,
    @Inject(OLLAMA_OPTIONS) options: OllamaModuleOptions,
  ) {
    this.modelDir = options.modelDir;
  }

  /**
   * The Ollama-style name (`name:tag`) /api/tags lists: the configured id when it has a tag, else
   * the first alias `<id>:<tag>` (`qwen2.5:1.5b` with the default configuration), else `<id>:latest`.
   */
  get name(): string {
    const { id, aliases } = this.catalog.model;
    if (id.includes(':')) return id;
    return aliases.find((alias) => alias.startsWith(`${id}:`)) ?? `${id}:latest`;
  }

  /**
   * sha256 of `<upstream repository>@<pinned commit>:<configured id>`: stable across restarts and
   * machines, changes when the pinned model or the configured id changes. (Hashing the ~1 GB of
   * weights at start-up would cost more than it tells.)
   */
  get digest(): string {
    return createHash('sha256').update(`${UPSTREAM_MODEL_REPOSITORY}@${UPSTREAM_MODEL_COMMIT}:${this.catalog.model.id}`).digest('hex');
  }

  /** True when `name` is one of the model's own names (id, aliases, the Ollama name; `:latest` optional). */
  isOwnName(name: string): boolean {
    const bare = name.endsWith(':latest') ? name.slice(0, -':latest'.length) : name;
    const own = this.name;
    return this.catalog.isKnown(name) || this.catalog.isKnown(bare) || name === own || bare === own || `${bare}:latest` === own;
  }

  /** Checks that a requested name is served (any name when acceptAnyModelName); UnknownModelError otherwise. */
  assertServed(name: string): void {
    try {
      this.catalog.resolve(name);
    } catch (error) {
      if (!(error instanceof UnknownModelError) || !this.isOwnName(name)) throw error;
    }
  }

  snapshot(): ModelSnapshot {
    return this.model.snapshot();
  }

  /** The runner is loaded (ready or generating). */
  isLoaded(): boolean {
    const state = this.model.snapshot().state;
    return state === 'ready' || state === 'busy';
  }

  async tag(): Promise<OllamaTagEntry> {
    const weights = await this.files.weights(this.modelDir);
    const modified = weights.modifiedAt ?? new Date(this.catalog.model.created * 1000);
    return {
      name: this.name,
      model: this.name,
      modified_at: modified.toISOString(),
      size: weights.size,
      digest: this.digest,
      details: OLLAMA_MODEL_DETAILS,
      capabilities: [...OLLAMA_CAPABILITIES],
    };
  }

  /**
   * The loaded model for /api/ps, or null while the runner is not loaded. `size_vram` equals `size`:
   * the whole model sits in the NPU card's own memory (Ollama shows that as "100% GPU").
   */
  async running(): Promise<OllamaRunningEntry | null> {
    if (!this.isLoaded()) return null;
    const tag = await this.tag();
    return {
      ...tag,
      expires_at: OLLAMA_NEVER_EXPIRES,
      size_vram: tag.size,
      context_length: this.model.snapshot().maxTokenLen ?? 0,
    };
  }

  async show(): Promise<OllamaShowResponse> {
    const snapshot = this.model.snapshot();
    const [tag, template] = await Promise.all([this.tag(), this.files.chatTemplate(this.modelDir)]);
    const parameters = this.parameters(snapshot);
    const modelInfo: Record<string, string | number> = {
      'general.architecture': 'qwen2',
      'general.basename': QWEN2_ARCHITECTURE.basename,
      'general.parameter_count': QWEN2_ARCHITECTURE.parameterCount,
      'qwen2.block_count': QWEN2_ARCHITECTURE.blockCount,
      'qwen2.embedding_length': QWEN2_ARCHITECTURE.embeddingLength,
    };
    if (snapshot.maxTokenLen !== null) modelInfo['qwen2.context_length'] = snapshot.maxTokenLen;
    const modelfile = [
      `# Modelfile of ${this.name} as served by qwen-chat (runs on the AXERA LLM-8850 NPU; not rebuildable by Ollama)`,
      `FROM ${this.name}`,
      `TEMPLATE """${template}"""`,
      ...parameters.map(([name, value]) => `PARAMETER ${name} ${value}`),
      `LICENSE """${LICENSE}"""`,
    ].join('\n');
    return {
      license: LICENSE,
      modelfile,
      parameters: parameters.map(([name, value]) => `${name.padEnd(30)} ${value}`).join('\n'),
      template,
      details: OLLAMA_MODEL_DETAILS,
      model_info: modelInfo,
      capabilities: [...OLLAMA_CAPABILITIES],
      modified_at: tag.modified_at,
    };
  }

  /** Modelfile parameters: the sampling the runner loaded, its window, and its end-of-turn token. */
  private parameters(snapshot: ModelSnapshot): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    const sampling = snapshot.sampling;
    if (sampling?.greedy === true) {
      out.push(['top_k', '1']);
    } else if (sampling) {
      for (const { key, flag, name } of SAMPLING_PARAMETERS) {
        const value = sampling[key];
        if (sampling[flag] !== false && (typeof value === 'number' || typeof value === 'string')) out.push([name, String(value)]);
      }
    }
    if (snapshot.maxTokenLen !== null) out.push(['num_ctx', String(snapshot.maxTokenLen)]);
    out.push(['stop', '"<|im_end|>"']);
    return out;
  }
}
