/**
 * Prompt tokens of realistic tool-carrying requests (issue 14 item 4), rendered exactly as the
 * tokenizer process renders them (ChatTemplateRenderer + the Qwen2.5 tokenizer): the template's own
 * `<tools>` JSON against the compact one the service uses. No runner: pure counting, so the figures
 * are exact and the same on every machine. Time to first token = prompt tokens ÷ ~14 per second.
 */
import { ChatTemplateRenderer, type RenderableMessage, QwenTokenizer } from '@qwen/tokenizer-engine';
import type { TemplateTool } from '@qwen/tokenizer';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The runner reads prompt tokens one at a time at about this rate (LLM-8850, Qwen2.5-1.5B). */
const PREFILL_TOKENS_PER_SECOND = 14;
const WINDOW = 1024;

interface RequestFixture {
  messages: RenderableMessage[];
  tools: TemplateTool[];
}

const FIXTURES: Array<[string, string]> = [
  ['Home Assistant Assist, 10 exposed entities', 'home-assistant-assist-request.json'],
  ['LangChain / AI SDK weather tool', 'weather-tool-request.json'],
];

export interface PromptTokenRow {
  request: string;
  withoutTools: number;
  template: number;
  compact: number;
}

/** Counts each fixture without tools, with the template's tool JSON and with the compact one. */
export function measurePromptTokens(fixtureDir: string): PromptTokenRow[] {
  const tokenizer = QwenTokenizer.load();
  const template = new ChatTemplateRenderer(tokenizer.chatTemplate, null, {}, 'template');
  const compact = new ChatTemplateRenderer(tokenizer.chatTemplate, null, {}, 'compact');
  return FIXTURES.map(([request, file]) => {
    const fixture = JSON.parse(readFileSync(join(fixtureDir, file), 'utf8')) as RequestFixture;
    const count = (renderer: ChatTemplateRenderer, tools: TemplateTool[]) => tokenizer.encode(renderer.render(fixture.messages, true, tools)).length;
    return { request, withoutTools: count(compact, []), template: count(template, fixture.tools), compact: count(compact, fixture.tools) };
  });
}

/** The markdown section: tokens, seconds before the first token, and what is left of the window. */
export function promptTokenTable(rows: readonly PromptTokenRow[], answerReserve = 256): string[] {
  const seconds = (tokens: number) => `${(tokens / PREFILL_TOKENS_PER_SECOND).toFixed(1)} s`;
  return [
    '',
    `Prompt tokens of tool requests (window ${WINDOW}, answer reserve ${answerReserve}, prefill ~${PREFILL_TOKENS_PER_SECOND} tokens/s):`,
    '',
    '| request | without tools | template tools | compact tools (served) | first token after | left for history + answer |',
    '|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.request} | ${r.withoutTools} | ${r.template} | ${r.compact} (${Math.round((100 * (r.compact - r.template)) / r.template)} %) | ` +
        `${seconds(r.compact)} | ${WINDOW - r.compact} |`,
    ),
  ];
}
