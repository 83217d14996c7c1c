/**
 * The model's answer still did not match the requested JSON format after the allowed retries.
 * The dialects answer 400 (OpenAI `json_validate_failed`, Ollama `{"error"}`): a status SDKs do not
 * retry by themselves, and never a silent invalid answer.
 */
export class StructuredOutputError extends Error {
  constructor(
    message: string,
    /** The request field that asked for JSON (`response_format`, `text.format`, `format`). */
    readonly param: string,
    /** The last invalid answer (for logs; not shown to clients). */
    readonly answer: string,
  ) {
    super(message);
    this.name = 'StructuredOutputError';
  }
}
