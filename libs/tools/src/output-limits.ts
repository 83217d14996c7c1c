/** The effective output limit of one request. */
export interface OutputLimit {
  /** What to generate at most: min(requested, room), or room when nothing was requested; never below 0. */
  maxTokens: number;
  /** The client's limit, or null when it set none. */
  requested: number | null;
  /** True when the client asked for more than the room left. */
  clamped: boolean;
  /** contextWindow − promptTokens. */
  room: number;
}

/** The response header that says a limit was lowered (value from outputLimitHeaderValue). */
export const OUTPUT_LIMIT_HEADER = 'X-Qwen-Max-Tokens-Clamped';

/** OpenAI: `max_completion_tokens` wins over the deprecated `max_tokens`; null when neither is set. */
export function requestedOpenAiLimit(request: { max_tokens?: number | null; max_completion_tokens?: number | null }): number | null {
  return request.max_completion_tokens ?? request.max_tokens ?? null;
}

/** Ollama `options.num_predict`: -1 (infinite) and -2 (fill the context) mean no limit, as in Ollama. */
export function requestedOllamaLimit(numPredict: number | null | undefined): number | null {
  if (numPredict === null || numPredict === undefined || numPredict < 0) return null;
  return numPredict;
}

/**
 * Treats the client's limit as an upper bound, as Ollama, llama.cpp and vLLM do: a 4096 with 994 tokens
 * of room generates at most 994 and says it was clamped, instead of refusing the request.
 */
export function clampOutputLimit(requested: number | null, promptTokens: number, contextWindow: number): OutputLimit {
  const room = contextWindow - promptTokens;
  const available = Math.max(0, room);
  if (requested === null) return { maxTokens: available, requested, clamped: false, room };
  const clamped = requested > available;
  return { maxTokens: clamped ? available : requested, requested, clamped, room };
}

/** `4096->994` for a clamped limit (the header value), null when nothing was clamped. */
export function outputLimitHeaderValue(limit: OutputLimit): string | null {
  return limit.clamped ? `${limit.requested}->${limit.maxTokens}` : null;
}
