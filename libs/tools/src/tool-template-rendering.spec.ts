import { toTemplateMessages } from './tool-history';
import { toTemplateTools } from './tool-spec';
import { QWEN_TEMPLATE, render, TOOLS_POSTAMBLE, TOOLS_PREAMBLE, WEATHER } from '../../../test/fixtures/tools/qwen-tools-template';

describe('Qwen2.5 chat template with tools', () => {
  it('renders ToolSpec[] as the <tools> block of the system turn', () => {
    const prompt = render(QWEN_TEMPLATE, {
      tools: toTemplateTools(WEATHER),
      messages: toTemplateMessages([
        { role: 'developer', content: 'You are a bot.' },
        { role: 'user', content: 'Weather in Paris?' },
      ]),
    });
    expect(prompt).toBe(
      TOOLS_PREAMBLE +
        '{"type": "function", "function": {"name": "get_weather", "description": "Current weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}' +
        TOOLS_POSTAMBLE +
        '<|im_start|>user\nWeather in Paris?<|im_end|>\n<|im_start|>assistant\n',
    );
  });

  it('renders a past OpenAI call (string arguments) and Ollama call (object arguments) once-encoded, and tool results as <tool_response>', () => {
    const prompt = render(QWEN_TEMPLATE, {
      tools: toTemplateTools(WEATHER),
      messages: toTemplateMessages([
        { role: 'system', content: 'You are a bot.' },
        { role: 'user', content: 'Paris and Oslo?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris"}' } },
            { function: { name: 'get_weather', arguments: { city: 'Oslo' } } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '{"temp": 21}' },
        { role: 'tool', tool_name: 'get_weather', content: '{"temp": 9}' },
      ]),
    });
    expect(prompt.slice(prompt.indexOf('<|im_start|>user'))).toBe(
      '<|im_start|>user\nParis and Oslo?<|im_end|>\n' +
        '<|im_start|>assistant\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>' +
        '\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"}}\n</tool_call><|im_end|>\n' +
        '<|im_start|>user\n<tool_response>\n{"temp": 21}\n</tool_response>\n<tool_response>\n{"temp": 9}\n</tool_response><|im_end|>\n' +
        '<|im_start|>assistant\n',
    );
  });

  it('keeps assistant text before its calls', () => {
    const prompt = render(QWEN_TEMPLATE, {
      messages: toTemplateMessages([
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Checking.', tool_calls: [{ function: { name: 'get_weather', arguments: '' } }] },
      ]),
      add_generation_prompt: false,
    });
    expect(prompt).toContain('<|im_start|>assistant\nChecking.\n<tool_call>\n{"name": "get_weather", "arguments": {}}\n</tool_call><|im_end|>\n');
  });
});
