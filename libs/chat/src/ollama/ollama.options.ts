/** Injection token of OllamaModule's options (private to the Ollama dialect). */
export const OLLAMA_OPTIONS = Symbol('OLLAMA_OPTIONS');

/** What the Ollama dialect reads of the configuration. */
export interface OllamaModuleOptions {
  /** `paths.modelDir`: the weights /api/tags reports and the template /api/show reads; null when unknown. */
  modelDir: string | null;
  /** `server.bodyLimit`: the limit of bodies read by the dialect itself (form-encoded `curl -d`). */
  bodyLimit: string;
  /** `chat.ollamaVersion`: what GET /api/version answers (clients gate features on it, e.g. VS Code needs ≥ 0.6.4). */
  version: string;
}
