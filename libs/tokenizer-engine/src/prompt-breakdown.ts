/** Prompt tokens per part: the sum is the whole prompt. */
export interface PromptTokenBreakdown {
  /** The system turn without tools (the default system prompt when none is given) and the generation prompt. */
  system: number;
  /** What the `<tools>` block adds. */
  tools: number;
  /** Messages between the system turn and the last user message (what was left after dropping old turns). */
  history: number;
  /** The last user message and everything after it (never dropped). */
  lastMessage: number;
}

/** A message as far as the breakdown needs to know it. */
export interface RoleMessage {
  role: string;
}

/**
 * Counts each part of a prompt by rendering it with and without parts (4 renders: use it only on the
 * refusal path). `render(messages, withTools)` must render exactly as the real prompt is rendered.
 */
export function measurePromptParts<M extends RoleMessage>(
  messages: readonly M[],
  render: (messages: readonly M[], withTools: boolean) => string,
  countTokens: (text: string) => number,
): PromptTokenBreakdown {
  const isSystem = (m: M): boolean => m.role === 'system' || m.role === 'developer';
  const lastUser = lastIndexOf(messages, (m) => m.role === 'user');
  const keptFrom = lastUser >= 0 ? lastUser : messages.length;
  const systemMessages = messages.filter(isSystem);
  const lastMessages = messages.slice(keptFrom).filter((m) => !isSystem(m));
  const total = countTokens(render(messages, true));
  const withoutTools = countTokens(render(messages, false));
  const system = countTokens(render(systemMessages, false));
  const systemAndLast = countTokens(render([...systemMessages, ...lastMessages], false));
  const lastMessage = systemAndLast - system;
  return { system, tools: total - withoutTools, history: withoutTools - system - lastMessage, lastMessage };
}

/**
 * The refusal message for a prompt that cannot fit even after dropping old turns, breaking the count
 * down so the user sees what to shorten.
 */
export function promptOverflowMessage(parts: PromptTokenBreakdown, contextWindow: number, answerReserve: number): string {
  const total = parts.system + parts.tools + parts.history + parts.lastMessage;
  const limit = contextWindow - answerReserve;
  const largest = (Object.entries(parts) as Array<[keyof PromptTokenBreakdown, number]>).sort((a, b) => b[1] - a[1])[0][0];
  return (
    `The prompt needs ${total} tokens (system ${parts.system}, tools ${parts.tools}, history ${parts.history}, last message ${parts.lastMessage}) ` +
    `but the model's window is ${contextWindow} tokens, ${answerReserve} of them kept for the answer, so at most ${limit} are left for the prompt. ` +
    `Shorten the ${PART_NAMES[largest]}.`
  );
}

const PART_NAMES: Record<keyof PromptTokenBreakdown, string> = {
  system: 'system prompt',
  tools: 'tool declarations (or offer fewer tools)',
  history: 'conversation history',
  lastMessage: 'last message',
};

function lastIndexOf<T>(items: readonly T[], predicate: (item: T) => boolean): number {
  for (let i = items.length - 1; i >= 0; i--) if (predicate(items[i])) return i;
  return -1;
}
