import { ModelProcessError } from '@qwen/model';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { Observable } from 'rxjs';
import request from 'supertest';
import type { App } from 'supertest/types';
import { ChatTestApp, createChatTestApp, fakeAnswer } from '../../../../test/doubles/chat';
import { ResponsesController } from './responses.controller';

/** Server-sent events → their data, checking that each `event:` line names the data's type. */
function sseEvents(text: string): ResponseStreamEvent[] {
  return text
    .split('\n\n')
    .filter((frame) => frame.trim())
    .map((frame) => {
      const [eventLine, dataLine] = frame.split('\n');
      const data = JSON.parse(dataLine.replace(/^data: /, '')) as ResponseStreamEvent;
      expect(eventLine).toBe(`event: ${data.type}`);
      return data;
    });
}

const TOOL = { type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } };

describe(ResponsesController.name, () => {
  let t: ChatTestApp;
  let server: App;

  beforeEach(async () => {
    t = await createChatTestApp();
    server = t.app.getHttpServer() as App;
  });
  afterEach(() => t.close());

  it('answers a response object; instructions and items reach the model as one conversation', async () => {
    t.model.behaviour = () => fakeAnswer('Sunny.', { promptTokens: 40, completionTokens: 2 });
    const res = await request(server)
      .post('/v1/responses')
      .send({
        model: 'qwen2.5',
        instructions: 'Be brief.',
        metadata: { a: 'b' },
        input: [
          { role: 'user', content: 'Weather?' },
          { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
          { type: 'function_call_output', call_id: 'call_1', output: '21 C' },
        ],
        tools: [TOOL],
      })
      .expect(200);
    expect(t.model.requests.at(-1)?.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Weather?' },
      { role: 'assistant', content: '', toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] },
      { role: 'tool', content: '21 C' },
    ]);
    expect(res.body).toMatchObject({
      id: expect.stringMatching(/^resp_[0-9a-f]{48}$/),
      object: 'response',
      status: 'completed',
      model: 'qwen2.5',
      metadata: { a: 'b' },
      store: false,
      output: [{ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Sunny.' }] }],
      usage: { input_tokens: 40, output_tokens: 2, total_tokens: 42 },
    });
    expect(res.headers['x-qwen-sampling']).toBe('temperature=0.9; top_k=10');
  });

  it('passes max_output_tokens as the upper bound and reports a cut answer as incomplete', async () => {
    t.model.behaviour = () => fakeAnswer('one two', { finishReason: 'length' });
    const res = await request(server).post('/v1/responses').send({ model: 'qwen2.5', input: 'count', max_output_tokens: 2 }).expect(200);
    expect(t.model.requests.at(-1)?.maxTokens).toBe(2);
    expect(res.body).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, max_output_tokens: 2 });
  });

  it('turns a tool call of the model into a function_call item', async () => {
    t.model.behaviour = () => fakeAnswer('<tool_call>\n{"name": "get_weather", "arguments": {"city": "Rome"}}\n</tool_call>');
    const res = await request(server).post('/v1/responses').send({ model: 'qwen2.5', input: 'Weather in Rome?', tools: [TOOL] }).expect(200);
    expect(t.model.requests.at(-1)?.tools).toEqual([{ type: 'function', function: { name: 'get_weather', parameters: TOOL.parameters } }]);
    expect(res.body.output).toEqual([
      { id: expect.stringMatching(/^fc_/), type: 'function_call', status: 'completed', call_id: expect.stringMatching(/^call_/), name: 'get_weather', arguments: '{"city":"Rome"}' },
    ]);
  });

  it('asks for JSON with text.format and answers the validated value', async () => {
    t.model.behaviour = () => fakeAnswer('"n": 3}');
    const format = { type: 'json_schema', name: 'count', schema: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] } };
    const res = await request(server).post('/v1/responses').send({ model: 'qwen2.5', input: 'count', text: { format } }).expect(200);
    expect(t.model.requests.at(-1)?.assistantPrefill).toBe('{');
    expect(res.body.output[0].content[0].text).toBe('{"n": 3}');
    expect(res.body.text).toEqual({ format });
  });

  it('answers 400 json_validate_failed naming text.format when the JSON never validates', async () => {
    t.model.behaviour = () => fakeAnswer('"n": "three"}');
    const format = { type: 'json_schema', name: 'count', schema: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] } };
    const res = await request(server).post('/v1/responses').send({ model: 'qwen2.5', input: 'count', text: { format } }).expect(400);
    expect(res.body.error).toMatchObject({ code: 'json_validate_failed', param: 'text.format' });
  });

  it('streams the official events with sequence numbers', async () => {
    t.model.behaviour = () => fakeAnswer('Hi there', { chunks: ['Hi', ' there'] });
    const res = await request(server).post('/v1/responses').send({ model: 'qwen2.5', input: 'hello', stream: true }).expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    const events = sseEvents(res.text);
    expect(events.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events.map((e) => e.sequence_number)).toEqual([...events.keys()]);
    expect(events.at(-1)).toMatchObject({ response: { output: [{ content: [{ text: 'Hi there' }] }] } });
  });

  it('ends a stream that fails after it began with response.failed', async () => {
    t.model.behaviour = () =>
      new Observable((subscriber) => {
        const [start, delta] = fakeAnswer('partial');
        subscriber.next(start);
        subscriber.next(delta);
        subscriber.error(new ModelProcessError('the runner died'));
      });
    const res = await request(server).post('/v1/responses').send({ model: 'qwen2.5', input: 'hello', stream: true }).expect(200);
    const last = sseEvents(res.text).at(-1);
    expect(last).toMatchObject({ type: 'response.failed', response: { status: 'failed', error: { code: 'model_process_failed' } } });
  });

  it('refuses stored state: previous_response_id 400, retrieval 404, both in OpenAI’s shape', async () => {
    const refused = await request(server).post('/v1/responses').send({ model: 'qwen2.5', input: 'hi', previous_response_id: 'resp_x' }).expect(400);
    expect(refused.body.error).toMatchObject({ type: 'invalid_request_error', code: 'previous_response_not_found', param: 'previous_response_id' });
    expect(refused.body.error.message).toMatch(/stateless/);
    const missing = await request(server).get('/v1/responses/resp_x').expect(404);
    expect(missing.body.error).toMatchObject({ code: 'response_not_found', message: expect.stringMatching(/stateless/) });
    expect(t.model.requests).toHaveLength(0);
  });

  it.each([
    [{ input: [] }, 'input'],
    [{ input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'x' }] }] }, 'input'],
    [{ input: 'hi', tools: [{ type: 'file_search' }] }, 'tools[0].type'],
    [{ input: 'hi', text: { format: { type: 'xml' } } }, 'text.format.type'],
    [{ input: 'hi', metadata: { a: 1 } }, 'metadata'],
  ])('answers 400 naming the field for %j', async (body, param) => {
    const res = await request(server).post('/v1/responses').send({ model: 'qwen2.5', ...body }).expect(400);
    expect(res.body.error).toMatchObject({ type: 'invalid_request_error', param });
    expect(t.model.requests).toHaveLength(0);
  });
});
