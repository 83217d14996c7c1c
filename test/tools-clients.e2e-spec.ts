/**
 * Tools, JSON modes and output limits with the apps' own client libraries (openai 6, ollama 0.6,
 * LangChain, the AI SDK 6) against the REAL service and the runner emulator. The emulator answers with
 * the last user message, so a user message holding a `<tool_call>` makes the model "call" it; when the
 * assistant turn is pre-filled (tool_choice required/named, JSON modes) it answers the rest of the
 * message after the pre-filled text. Requires `npm run build`.
 */
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { tool as langchainTool } from '@langchain/core/tools';
import { ChatOllama } from '@langchain/ollama';
import { ChatOpenAI } from '@langchain/openai';
import { TestService, startTestService } from '@qwen/testing';
import { generateObject, generateText, jsonSchema, tool as aiTool } from 'ai';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { z } from 'zod';

jest.setTimeout(60000);

const WEATHER: OpenAI.Chat.Completions.ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The current weather of a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};
/** A call written the way Qwen2.5 writes it (and its chat template prints past calls): `{"name": "…", "arguments": …}`. */
const call = (name: string, args: Record<string, unknown>): string => `<tool_call>\n{"name": ${JSON.stringify(name)}, "arguments": ${JSON.stringify(args)}}\n</tool_call>`;
const CITY_SCHEMA = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };

describe('tools, JSON modes and limits with the official clients (real service, runner emulator)', () => {
  let service: TestService;
  let openai: OpenAI;
  let ollama: Ollama;

  beforeAll(async () => {
    service = await startTestService();
    openai = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: 'sk-not-checked', maxRetries: 0 });
    ollama = new Ollama({ host: service.url });
  });
  afterAll(() => service?.close());

  const user = (content: string): OpenAI.Chat.Completions.ChatCompletionMessageParam[] => [{ role: 'user', content }];

  describe('openai 6', () => {
    it('answers a written call as message.tool_calls (content null, finish_reason tool_calls)', async () => {
      const answer = await openai.chat.completions.create({ model: 'qwen2.5', messages: user(call('get_weather', { city: 'Paris' })), tools: [WEATHER] });
      const choice = answer.choices[0];
      expect(choice.finish_reason).toBe('tool_calls');
      expect(choice.message.content).toBeNull();
      expect(choice.message.tool_calls).toEqual([{ id: expect.stringMatching(/^call_/), type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }]);
    });

    it('streams several calls after the text before them; the stream helper assembles the same message', async () => {
      const content = `Let me look.\n${call('get_weather', { city: 'Paris' })}\n${call('get_weather', { city: 'Rome' })}`;
      const stream = await openai.chat.completions.create({ model: 'qwen2.5', messages: user(content), tools: [WEATHER], stream: true });
      let text = '';
      const opened: Array<{ index: number; name?: string }> = [];
      let finish: string | null = null;
      for await (const chunk of stream) {
        const choice = chunk.choices[0];
        text += choice?.delta.content ?? '';
        for (const delta of choice?.delta.tool_calls ?? []) if (delta.id) opened.push({ index: delta.index, name: delta.function?.name });
        finish = choice?.finish_reason ?? finish;
      }
      expect(text).toBe('Let me look.');
      expect(opened).toEqual([
        { index: 0, name: 'get_weather' },
        { index: 1, name: 'get_weather' },
      ]);
      expect(finish).toBe('tool_calls');

      const final = await openai.chat.completions.stream({ model: 'qwen2.5', messages: user(content), tools: [WEATHER] }).finalChatCompletion();
      expect(final.choices[0].message.tool_calls?.map((c) => (c.type === 'function' ? JSON.parse(c.function.arguments) : null))).toEqual([{ city: 'Paris' }, { city: 'Rome' }]);
    });

    it('takes a round trip: the call and its result in history reach the prompt', async () => {
      const first = await openai.chat.completions.create({ model: 'qwen2.5', messages: user(call('get_weather', { city: 'Oslo' })), tools: [WEATHER] });
      const toolCall = first.choices[0].message.tool_calls![0];
      const second = await openai.chat.completions.create({
        model: 'qwen2.5',
        tools: [WEATHER],
        messages: [
          ...user(call('get_weather', { city: 'Oslo' })),
          first.choices[0].message,
          { role: 'tool', tool_call_id: toolCall.id, content: '{"temperature": 7}' },
        ],
      });
      // The emulator answers the last user turn: the template renders the tool result there.
      expect(second.choices[0].finish_reason).toBe('stop');
      expect(second.choices[0].message.content).toContain('{"temperature": 7}');
      expect(second.usage!.prompt_tokens).toBeGreaterThan(first.usage!.prompt_tokens);
    });

    it('tool_choice required and a named function force the call through the pre-filled turn', async () => {
      const required = await openai.chat.completions.create({
        model: 'qwen2.5',
        messages: user(call('get_weather', { city: 'Rome' })),
        tools: [WEATHER],
        tool_choice: 'required',
      });
      expect(required.choices[0].message.tool_calls?.[0]).toMatchObject({ function: { name: 'get_weather', arguments: '{"city":"Rome"}' } });
      const named = await openai.chat.completions.create({
        model: 'qwen2.5',
        messages: user(call('get_weather', { city: 'Bern' })),
        tools: [WEATHER],
        tool_choice: { type: 'function', function: { name: 'get_weather' } },
      });
      expect(named.choices[0].finish_reason).toBe('tool_calls');
      expect(named.choices[0].message.tool_calls?.[0]).toMatchObject({ function: { name: 'get_weather', arguments: '{"city":"Bern"}' } });
    });

    it('response_format json_object and json_schema (strict) answer the JSON', async () => {
      const object = await openai.chat.completions.create({ model: 'qwen2.5', messages: user('{"ok": true}'), response_format: { type: 'json_object' } });
      expect(JSON.parse(object.choices[0].message.content!)).toEqual({ ok: true });
      const schema = await openai.chat.completions.create({
        model: 'qwen2.5',
        messages: user('{"city": "Oslo"}'),
        response_format: { type: 'json_schema', json_schema: { name: 'place', strict: true, schema: CITY_SCHEMA } },
      });
      expect(JSON.parse(schema.choices[0].message.content!)).toEqual({ city: 'Oslo' });
    });

    it('an answer that does not match the schema is a 400 json_validate_failed', async () => {
      const error = await openai.chat.completions
        .create({ model: 'qwen2.5', messages: user('{"town": "Oslo"}'), response_format: { type: 'json_schema', json_schema: { name: 'place', schema: CITY_SCHEMA } } })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect(error).toMatchObject({ code: 'json_validate_failed', param: 'response_format' });
    });

    it("answers Home Assistant's llama_cpp setup probe (one test tool, max_tokens 3), plain and streamed", async () => {
      const probe = { model: 'qwen2.5', messages: user('Hello, this is a test'), max_tokens: 3, tools: [WEATHER] };
      const plain = await openai.chat.completions.create(probe);
      expect(plain.choices[0].finish_reason).toBe('length');
      expect(plain.usage?.completion_tokens).toBe(3);
      let finish: string | null = null;
      for await (const chunk of await openai.chat.completions.create({ ...probe, stream: true })) finish = chunk.choices[0]?.finish_reason ?? finish;
      expect(finish).toBe('length');
    });

    it('max_tokens 4096 answers normally and says it was clamped', async () => {
      const { data, response } = await openai.chat.completions.create({ model: 'qwen2.5', messages: user('Hello there'), max_tokens: 4096 }).withResponse();
      expect(data.choices[0]).toMatchObject({ finish_reason: 'stop', message: { content: 'Hello there' } });
      expect(response.headers.get('x-qwen-max-tokens-clamped')).toMatch(/^4096->\d+$/);
    });
  });

  describe('ollama 0.6', () => {
    it('answers tool calls with arguments as objects, streamed and not', async () => {
      const tools = [WEATHER as Parameters<Ollama['chat']>[0]['tools'] extends Array<infer T> | undefined ? T : never];
      const messages = [{ role: 'user', content: call('get_weather', { city: 'Lima' }) }];
      const answer = await ollama.chat({ model: 'qwen2.5', messages, tools });
      expect(answer.message.tool_calls).toEqual([{ function: expect.objectContaining({ name: 'get_weather', arguments: { city: 'Lima' } }) }]);
      const calls: unknown[] = [];
      for await (const part of await ollama.chat({ model: 'qwen2.5', messages, tools, stream: true })) calls.push(...(part.message.tool_calls ?? []));
      expect(calls).toEqual([{ function: expect.objectContaining({ name: 'get_weather', arguments: { city: 'Lima' } }) }]);
    });

    it('format "json" and a schema answer the JSON', async () => {
      const json = await ollama.chat({ model: 'qwen2.5', messages: [{ role: 'user', content: '{"a": 1}' }], format: 'json' });
      expect(JSON.parse(json.message.content)).toEqual({ a: 1 });
      const schema = await ollama.chat({ model: 'qwen2.5', messages: [{ role: 'user', content: '{"city": "Kyiv"}' }], format: CITY_SCHEMA });
      expect(JSON.parse(schema.message.content)).toEqual({ city: 'Kyiv' });
    });

    it('/api/show advertises tools and /api/version is at least 0.6.4', async () => {
      expect((await ollama.show({ model: 'qwen2.5' })).capabilities).toEqual(['completion', 'tools']);
      expect(await ollama.version()).toEqual({ version: '0.6.4' });
    });
  });

  describe('LangChain', () => {
    const weather = langchainTool(async ({ city }: { city: string }) => `sunny in ${city}`, {
      name: 'get_weather',
      description: 'The current weather of a city',
      schema: z.object({ city: z.string() }),
    });

    it('ChatOpenAI bindTools returns the tool calls; withStructuredOutput (json_schema) returns the object', async () => {
      const model = new ChatOpenAI({ model: 'qwen2.5', apiKey: 'sk-not-checked', configuration: { baseURL: `${service.url}/v1` }, maxRetries: 0 });
      const message = await model.bindTools([weather]).invoke(call('get_weather', { city: 'Quito' }));
      expect(message.tool_calls).toEqual([expect.objectContaining({ name: 'get_weather', args: { city: 'Quito' }, id: expect.stringMatching(/^call_/) })]);
      const structured = model.withStructuredOutput(z.object({ city: z.string() }), { name: 'place', method: 'jsonSchema' });
      expect(await structured.invoke('{"city": "Lund"}')).toEqual({ city: 'Lund' });
    });

    it('ChatOllama bindTools returns the tool calls', async () => {
      const model = new ChatOllama({ model: 'qwen2.5', baseUrl: service.url });
      const message = await model.bindTools([weather]).invoke(call('get_weather', { city: 'Baku' }));
      expect(message.tool_calls).toEqual([expect.objectContaining({ name: 'get_weather', args: { city: 'Baku' } })]);
    });
  });

  describe('AI SDK 6 (openai-compatible)', () => {
    const provider = () => createOpenAICompatible({ name: 'qwen', baseURL: `${service.url}/v1`, apiKey: 'sk-not-checked', supportsStructuredOutputs: true });

    it('generateText with a tool returns the call', async () => {
      const result = await generateText({
        model: provider().chatModel('qwen2.5'),
        prompt: call('get_weather', { city: 'Riga' }),
        tools: { get_weather: aiTool({ description: 'The current weather of a city', inputSchema: jsonSchema<{ city: string }>(WEATHER.function.parameters as never) }) },
        maxRetries: 0,
      });
      expect(result.finishReason).toBe('tool-calls');
      expect(result.toolCalls).toEqual([expect.objectContaining({ toolName: 'get_weather', input: { city: 'Riga' } })]);
    });

    it('generateObject returns the validated object', async () => {
      const { object } = await generateObject({ model: provider().chatModel('qwen2.5'), schema: z.object({ city: z.string() }), prompt: '{"city": "Tartu"}', maxRetries: 0 });
      expect(object).toEqual({ city: 'Tartu' });
    });
  });
});
