import { Injectable } from '@nestjs/common';
import { resolveTokenizerFiles } from '@qwen/tokenizer/core/tokenizer-files';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MODEL_WEIGHTS_FOLDER } from './ollama.constants';

/** The model weights on disk: what /api/tags reports as `size` and `modified_at`. */
export interface ModelWeightsSummary {
  /** Sum of the sizes of the files in `<modelDir>/qwen2.5-1.5b-gptq-int4-ax650/`; 0 when absent. */
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

  /** Size and modification time of the weights folder (stat only; the weights are never read). */
  async weights(modelDir: string | null): Promise<ModelWeightsSummary> {
    if (!modelDir) return { size: 0, modifiedAt: null };
    const folder = join(modelDir, MODEL_WEIGHTS_FOLDER);
    let names: string[];
    try {
      names = await readdir(folder);
    } catch {
      return { size: 0, modifiedAt: null };
    }
    let size = 0;
    let newest = 0;
    for (const name of names) {
      const info = await stat(join(folder, name)).catch(() => null);
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
