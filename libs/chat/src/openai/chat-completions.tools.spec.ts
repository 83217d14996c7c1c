import request from 'supertest';
import type { App } from 'supertest/types';
import { ChatTestApp, createChatTestApp, fakeAnswer } from '../../../../test/doubles/chat';
import { ChatCompletionsController } from './chat-completions.controller';

const WEATHER = { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } };
const CALL = (city: string) => `<tool_call>\n{"name": "get_weather", "arguments": {"city": "${city}"}}\n</tool_call>`;

interface ChunkDelta {
  content?: string;
  tool_calls?: Array<Record<string, unknown>>;
}
interface Frame {
  choices: Array<{ delta: ChunkDelta; finish_reason: string | null }>;
  error?: unknown;
}

function sseData(text: string): Array<Frame | '[DONE]'> {
  return text
    .split('\n\n')
    .filter((frame) => frame.trim())
    .map((frame) => (frame === 'data: [DONE]' ? '[DONE]' : JSON.parse(frame.slice('data: '.length))));
}

describe(ChatCompletionsController.name, () => {
  let t: ChatTestApp;
  let server: App;

  beforeEach(async () => {
    t = await createChatTestApp();
    server = t.app.getHttpServer() as App;
  });
  afterEach(() => t.close());

  const chat = (body: Record<string, unknown>) => request(server).post('/v1/chat/completions').send({ model: 'qwen2.5', ...body });

  describe('tools', () => {
    it('answers the calls as message.tool_calls (call_ ids, arguments as a JSON string), content null, finish_reason tool_calls', async () => {
      t.model.behaviour = () => fakeAnswer(`${CALL('Paris')}\n${CALL('Rome')}`);
      const res = await chat({ messages: [{ role: 'user', content: 'weather?' }], tools: [WEATHER] }).expect(200);
      const choice = res.body.choices[0];
      expect(choice.finish_reason).toBe('tool_calls');
      expect(choice.message).toEqual({
        role: 'assistant',
        content: null,
        refusal: null,
        tool_calls: [
          { id: expect.stringMatching(/^call_[0-9a-f]{24}$/), type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: expect.stringMatching(/^call_[0-9a-f]{24}$/), type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
        ],
      });
      expect(t.model.requests[0].tools).toEqual([WEATHER]);
    });

    it('keeps the text before the first call as content', async () => {
      t.model.behaviour = () => fakeAnswer(`Checking.\n${CALL('Oslo')}`);
      const res = await chat({ messages: [{ role: 'user', content: 'weather?' }], tools: [WEATHER] }).expect(200);
      expect(res.body.choices[0].message.content).toBe('Checking.');
      expect(res.body.choices[0].message.tool_calls).toHaveLength(1);
    });

    it('streams held-back text, then per call an opening chunk (index, id, type, name) and its arguments, then finish_reason tool_calls', async () => {
      const answer = `Sure.\n${CALL('Paris')}${CALL('Rome')}`;
      t.model.behaviour = () => fakeAnswer(answer, { chunks: answer.match(/[\s\S]{1,7}/g) ?? [] });
      const res = await chat({ messages: [{ role: 'user', content: 'weather?' }], tools: [WEATHER], stream: true }).expect(200);
      const chunks = sseData(res.text).filter((c): c is Frame => c !== '[DONE]');
      const deltas = chunks.map((c) => c.choices[0].delta);
      expect(deltas.map((d) => d.content ?? '').join('')).toBe('Sure.');
      expect(deltas.filter((d) => d.content).every((d) => !String(d.content).includes('<'))).toBe(true);
      const toolDeltas = deltas.flatMap((d) => (d.tool_calls ? [d.tool_calls] : []));
      expect(toolDeltas.every((calls) => calls.length === 1)).toBe(true);
      expect(toolDeltas.map((calls) => calls[0])).toEqual([
        { index: 0, id: expect.stringMatching(/^call_/), type: 'function', function: { name: 'get_weather', arguments: '' } },
        { index: 0, function: { arguments: '{"city":"Paris"}' } },
        { index: 1, id: expect.stringMatching(/^call_/), type: 'function', function: { name: 'get_weather', arguments: '' } },
        { index: 1, function: { arguments: '{"city":"Rome"}' } },
      ]);
      expect(chunks[chunks.length - 1].choices[0].finish_reason).toBe('tool_calls');
    });

    it('tool_choice none offers no tools and a written call stays text', async () => {
      t.model.behaviour = () => fakeAnswer(CALL('Paris'));
      const res = await chat({ messages: [{ role: 'user', content: 'x' }], tools: [WEATHER], tool_choice: 'none' }).expect(200);
      expect(res.body.choices[0]).toMatchObject({ finish_reason: 'stop', message: { content: CALL('Paris') } });
      expect(t.model.requests[0].tools).toBeUndefined();
    });

    it('a named tool_choice pre-fills the call with its name and stops at the first </tool_call>', async () => {
      t.model.behaviour = () => fakeAnswer('{"city": "Bern"}}\n');
      const res = await chat({ messages: [{ role: 'user', content: 'x' }], tools: [WEATHER], tool_choice: { type: 'function', function: { name: 'get_weather' } } }).expect(200);
      expect(t.model.requests[0]).toMatchObject({ assistantPrefill: '<tool_call>\n{"name": "get_weather", "arguments": ', stop: ['</tool_call>'] });
      expect(res.body.choices[0].message.tool_calls[0].function).toEqual({ name: 'get_weather', arguments: '{"city":"Bern"}' });
    });

    it('parallel_tool_calls false stops at the first </tool_call>', async () => {
      await chat({ messages: [{ role: 'user', content: 'x' }], tools: [WEATHER], parallel_tool_calls: false }).expect(200);
      expect(t.model.requests[0].stop).toEqual(['</tool_call>']);
    });

    it('takes history with assistant tool_calls (content null, arguments decoded to an object) and tool results', async () => {
      await chat({
        messages: [
          { role: 'user', content: 'weather in Paris?' },
          { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
          { role: 'tool', tool_call_id: 'call_1', content: '{"temp": 21}' },
        ],
        tools: [WEATHER],
      }).expect(200);
      expect(t.model.requests[0].messages).toEqual([
        { role: 'user', content: 'weather in Paris?' },
        { role: 'assistant', content: '', toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] },
        { role: 'tool', content: '{"temp": 21}' },
      ]);
    });
  });

  describe('response_format', () => {
    const schemaFormat = { type: 'json_schema', json_schema: { name: 'place', strict: true, schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false } } };

    it('json_schema: answers the validated JSON as content', async () => {
      t.model.behaviour = () => fakeAnswer('"city": "Oslo"}');
      const res = await chat({ messages: [{ role: 'user', content: 'x' }], response_format: schemaFormat }).expect(200);
      expect(JSON.parse(res.body.choices[0].message.content)).toEqual({ city: 'Oslo' });
      expect(t.model.requests[0].assistantPrefill).toBe('{');
    });

    it('an answer still invalid after the retry is a 400 json_validate_failed (OpenAI shape)', async () => {
      t.model.behaviour = () => fakeAnswer('"town": 5}');
      const res = await chat({ messages: [{ role: 'user', content: 'x' }], response_format: schemaFormat }).expect(400);
      expect(res.body).toEqual({
        error: { message: expect.stringContaining('after 2 attempts'), type: 'invalid_request_error', param: 'response_format', code: 'json_validate_failed' },
      });
      expect(t.model.requests).toHaveLength(2);
    });

    it('streamed: the JSON goes out as produced and an invalid one ends with an error event', async () => {
      t.model.behaviour = () => fakeAnswer('nope');
      const res = await chat({ messages: [{ role: 'user', content: 'x' }], response_format: { type: 'json_object' }, stream: true }).expect(200);
      const frames = sseData(res.text);
      expect(frames[frames.length - 1]).toMatchObject({ error: { code: 'json_validate_failed' } });
      expect(t.model.requests).toHaveLength(1);
    });
  });

  describe('output limits', () => {
    it('passes max_completion_tokens as an upper bound and says when it was clamped', async () => {
      t.model.behaviour = (req) => fakeAnswer('ok').map((e) => (e.type === 'start' ? { ...e, maxTokens: 994, requestedMaxTokens: req.maxTokens ?? null } : e));
      const res = await chat({ messages: [{ role: 'user', content: 'x' }], max_tokens: 10, max_completion_tokens: 4096 }).expect(200);
      expect(t.model.requests[0].maxTokens).toBe(4096);
      expect(res.headers['x-qwen-max-tokens-clamped']).toBe('4096->994');
      const plain = await chat({ messages: [{ role: 'user', content: 'x' }], max_tokens: 3 }).expect(200);
      expect(plain.headers['x-qwen-max-tokens-clamped']).toBeUndefined();
    });
  });
});
