/**
 * A tools / tool_choice / response_format / format value the service cannot honour. `param` names the
 * request field the way the APIs spell it (`tools[1].function.name`), so the edge can answer a 400 in
 * its own shape (OpenAI `invalid_request_error` with `param`, Ollama `{ error }`).
 */
export class ToolRequestError extends Error {
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(message);
    this.name = ToolRequestError.name;
  }
}
