/** The one place Qwen2.5's chat template prints a declared tool: Python `json.dumps` defaults, `", "` and `": "`. */
export const TEMPLATE_TOOL_JSON = 'tool | tojson';
/** The same, with the separators of `JSON.stringify`: no space after `,` and `:`. */
export const COMPACT_TOOL_JSON = 'tool | tojson(separators=(",", ":"))';

/**
 * Qwen2.5's template already prints each tool on one line (no indentation); the only whitespace left
 * in the `<tools>` block is the space after every `,` and `:` of the JSON. This returns the template
 * with that one expression changed to compact separators, so the `<tools>` block is the template's own
 * text minus those spaces (past calls' `arguments | tojson` stay as the model was trained).
 * Throws when the template does not print tools the way Qwen2.5's does (another model's template).
 */
export function compactToolsChatTemplate(chatTemplate: string): string {
  const occurrences = toolJsonOccurrences(chatTemplate);
  if (occurrences !== 1) {
    throw new Error(`The chat template prints tools ${occurrences} times with '${TEMPLATE_TOOL_JSON}' (expected once, as Qwen2.5's does)`);
  }
  return chatTemplate.replace(TEMPLATE_TOOL_JSON, COMPACT_TOOL_JSON);
}

/** True when the template prints each tool once with `tool | tojson`, as Qwen2.5's does (compactToolsChatTemplate applies). */
export function printsToolsLikeQwen(chatTemplate: string): boolean {
  return toolJsonOccurrences(chatTemplate) === 1;
}

function toolJsonOccurrences(chatTemplate: string): number {
  return chatTemplate.split(TEMPLATE_TOOL_JSON).length - 1;
}
