/**
 * The `[<line>]` field of the runner's log records (`__LINE__` in its sources).
 *
 * Known (printed in test/fixtures/captures/ or quoted in docs/runner-protocol.md): 111 `LLM init start`,
 * 226 `max_token_len`, 231 `kv_cache_size`, 282 `load config:`, 288 `LLM init ok`, 610 `hit eos`,
 * 386 `Set AXCL device failed` (function `init`).
 *
 * NOT known for this build (neither the protocol document nor the captures show them): the lines of
 * the failure records below. Their texts are those of the ax-llm sources; their numbers are
 * placeholders, stable so tests can compare whole lines, but nothing should match on them.
 */
export const RecordLine = {
  initStart: 111,
  maxTokenLen: 226,
  kvCacheSize: 231,
  loadConfig: 282,
  initOk: 288,
  hitEos: 610,
  setDeviceFailed: 386,
  /** placeholder: `tokenizer.Init(...) failed` (the tokenizer answered, but not 200 + JSON) */
  tokenizerInitFailed: 130,
  /** placeholder: `embed_selector.Init(...) failed` */
  embedSelectorInitFailed: 150,
  /** placeholder: `LLaMaEmbedSelector use mmap` */
  embedSelectorMmap: 45,
  /** placeholder: `init axmodel(...) failed` */
  axmodelInitFailed: 178,
  /** placeholder: `init post axmodel(...) failed` */
  postAxmodelInitFailed: 188,
  /** placeholder: `config file(...) open failed` (function `load_config`) */
  configOpenFailed: 278,
  /** placeholder: `load postprocess config(...) failed` */
  postConfigFailed: 285,
  /** placeholder: the two `[E][Decode]` records of a failed `/decode` */
  decodeFailed: 0,
} as const;
