import { Injectable } from '@nestjs/common';
import { upstreamModelFiles } from '@qwen/model';
import { resolveTokenizerFiles } from '@qwen/tokenizer-engine';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** The model weights on disk: what /api/tags reports as `size` and `modified_at`. */
export interface ModelWeightsSummary {
  /** Sum of the sizes of the model files the runner loads (28 layers, post model, embeddings) that exist; 0 when none. */
  size: number;
  /** The newest modification time among them; null when there are none. */
  modifiedAt: Date | null;
}

/**
 * Reads the model repository's files for the Ollama model endpoints (the only file-system access of
 * the dialect, behind one injectable class so a test can swap it).
 */
@Injectable()
export class OllamaModelFiles {
  private readonly templates = new Map<string, Promise<string>>();

  /** Size and modification time of the model files (stat only; the weights are never read). */
  async weights(modelDir: string | null): Promise<ModelWeightsSummary> {
    if (!modelDir) return { size: 0, modifiedAt: null };
    let size = 0;
    let newest = 0;
    for (const file of upstreamModelFiles()) {
      const info = await stat(join(modelDir, file)).catch(() => null);
      if (!info?.isFile()) continue;
      size += info.size;
      newest = Math.max(newest, info.mtimeMs);
    }
    return { size, modifiedAt: newest > 0 ? new Date(newest) : null };
  }

  /**
   * The model's own chat template (Jinja, `chat_template` of tokenizer_config.json): from the model
   * directory's tokenizer folder, else the identical file of the bundled npm tokenizer package.
   * Read once per file, then cached.
   */
  chatTemplate(modelDir: string | null): Promise<string> {
    const file = resolveTokenizerFiles(modelDir).tokenizerConfigJson;
    let template = this.templates.get(file);
    if (!template) {
      template = readFile(file, 'utf8').then((text) => {
        const value = (JSON.parse(text) as { chat_template?: unknown }).chat_template;
        return typeof value === 'string' ? value : '';
      });
      template.catch(() => this.templates.delete(file));
      this.templates.set(file, template);
    }
    return template;
  }
}
