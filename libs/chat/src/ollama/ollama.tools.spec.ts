import request from 'supertest';
import type { App } from 'supertest/types';
import { ChatTestApp, createChatTestApp, fakeAnswer } from '../../../../test/doubles/chat';
import { OllamaApiController } from './ollama.controller';

const WEATHER = { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } };
const CALL = (city: string) => `<tool_call>\n{"name": "get_weather", "arguments": {"city": "${city}"}}\n</tool_call>`;

describe(OllamaApiController.name, () => {
  let t: ChatTestApp;
  let server: App;

  beforeEach(async () => {
    t = await createChatTestApp();
    server = t.app.getHttpServer() as App;
  });
  afterEach(() => t.close());

  const chat = (body: Record<string, unknown>) => request(server).post('/api/chat').send({ model: 'qwen2.5', ...body });

  it('answers message.tool_calls with arguments as objects (done_reason stop)', async () => {
    t.model.behaviour = () => fakeAnswer(`${CALL('Paris')}\n${CALL('Rome')}`);
    const res = await chat({ messages: [{ role: 'user', content: 'x' }], tools: [WEATHER], stream: false }).expect(200);
    expect(res.body.message).toEqual({
      role: 'assistant',
      content: '',
      tool_calls: [
        { function: { index: 0, name: 'get_weather', arguments: { city: 'Paris' } } },
        { function: { index: 1, name: 'get_weather', arguments: { city: 'Rome' } } },
      ],
    });
    expect(res.body.done_reason).toBe('stop');
    expect(t.model.requests[0].tools).toEqual([WEATHER]);
  });

  it('streams each call in the chunk that completes it', async () => {
    const answer = `Sure. ${CALL('Paris')}`;
    t.model.behaviour = () => fakeAnswer(answer, { chunks: answer.match(/[\s\S]{1,5}/g) ?? [] });
    const res = await chat({ messages: [{ role: 'user', content: 'x' }], tools: [WEATHER] }).expect(200);
    const lines = res.text.trim().split('\n').map((line) => JSON.parse(line) as { message: { content: string; tool_calls?: unknown[] }; done: boolean });
    expect(lines.map((l) => l.message.content).join('')).toBe('Sure.');
    const withCalls = lines.filter((l) => l.message.tool_calls);
    expect(withCalls).toHaveLength(1);
    expect(withCalls[0].message.tool_calls).toEqual([{ function: { index: 0, name: 'get_weather', arguments: { city: 'Paris' } } }]);
    expect(lines[lines.length - 1].done).toBe(true);
  });

  it('takes history with tool_calls (arguments as objects) and tool results with tool_name', async () => {
    await chat({
      stream: false,
      tools: [WEATHER],
      messages: [
        { role: 'user', content: 'weather?' },
        { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris' } } }] },
        { role: 'tool', content: '21 C', tool_name: 'get_weather' },
      ],
    }).expect(200);
    expect(t.model.requests[0].messages).toEqual([
      { role: 'user', content: 'weather?' },
      { role: 'assistant', content: '', toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] },
      { role: 'tool', content: '21 C', name: 'get_weather' },
    ]);
  });

  it('format "json" answers the JSON; an answer still invalid after the retry is a 400 {"error"}', async () => {
    t.model.behaviour = () => fakeAnswer('"ok": true}');
    const res = await chat({ messages: [{ role: 'user', content: 'x' }], format: 'json', stream: false }).expect(200);
    expect(JSON.parse(res.body.message.content)).toEqual({ ok: true });
    t.model.behaviour = () => fakeAnswer('no');
    const bad = await chat({ messages: [{ role: 'user', content: 'x' }], format: { type: 'object', required: ['a'] }, stream: false }).expect(400);
    expect(bad.body).toEqual({ error: expect.stringContaining('did not match the requested JSON format') });
  });

  it('num_predict is passed as an upper bound', async () => {
    await chat({ messages: [{ role: 'user', content: 'x' }], options: { num_predict: 4096 }, stream: false }).expect(200);
    expect(t.model.requests[0].maxTokens).toBe(4096);
  });
});
