import type { GenerationEvent, GenerationRequest } from '@qwen/model';
import { StructuredOutputValidator, planOpenAiResponseFormat, planOpenAiTools } from '@qwen/tools';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { FakeModelService, fakeAnswer } from '../../../../test/doubles/chat';
import type { AnswerEvent, AnswerPlan } from './assistant-events';
import { AssistantTurn } from './assistant-turn';
import { StructuredOutputError } from './structured-output-error';

const WEATHER_TOOL = { type: 'function', function: { name: 'get_weather', description: 'Weather of a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } };
const CITY_SCHEMA = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };

function setUp(retries = 1) {
  const model = new FakeModelService();
  const turn = new AssistantTurn(model, new StructuredOutputValidator(), { structuredOutputRetries: retries });
  const request = (content: string): GenerationRequest => ({ requestId: 'r1', messages: [{ role: 'user', content }] });
  const run = (req: GenerationRequest, plan: AnswerPlan, streamed = false): Promise<AnswerEvent[]> =>
    lastValueFrom(turn.answer(req, plan, { streamed }).pipe(toArray()));
  return { model, turn, request, run };
}

const textOf = (events: AnswerEvent[]): string => events.map((e) => (e.type === 'text' ? e.text : '')).join('');
const doneOf = (events: AnswerEvent[]) => {
  const done = events[events.length - 1];
  if (done.type !== 'done') throw new Error(`last event is ${done.type}`);
  return done;
};

describe(AssistantTurn.name, () => {
  it('passes a plain answer through as text, with the start and any event it does not shape', async () => {
    const { model, run, request } = setUp();
    const progress = { type: 'progress', phase: 'queued', position: 1, promptTokens: null, fedEstimate: null, etaMs: null } as unknown as GenerationEvent;
    model.behaviour = () => [progress, ...fakeAnswer('Hello there', { chunks: ['Hello', ' there'] })];
    const events = await run(request('hi'), { tools: null, structured: null });
    expect(events.map((e) => e.type)).toEqual(['progress', 'start', 'text', 'text', 'done']);
    expect(textOf(events)).toBe('Hello there');
    expect(doneOf(events)).toMatchObject({ finishReason: 'stop', toolCalls: [], attempts: 1 });
    expect(model.requests[0].tools).toBeUndefined();
    expect(model.requests[0].assistantPrefill).toBeUndefined();
  });

  it('offers the tools and turns a written <tool_call> into a call, holding back its text (tool_choice auto)', async () => {
    const { model, run, request } = setUp();
    const answer = 'Let me check.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>';
    model.behaviour = () => fakeAnswer(answer, { chunks: [answer.slice(0, 15), answer.slice(15, 40), answer.slice(40)] });
    const events = await run(request('weather?'), { tools: planOpenAiTools({ tools: [WEATHER_TOOL] }), structured: null });
    expect(textOf(events)).toBe('Let me check.');
    const calls = events.filter((e) => e.type === 'tool-call');
    expect(calls).toEqual([{ type: 'tool-call', index: 0, call: expect.objectContaining({ name: 'get_weather', arguments: { city: 'Paris' }, argumentsJson: '{"city":"Paris"}' }) }]);
    expect(doneOf(events)).toMatchObject({ finishReason: 'tool_calls', toolCalls: [expect.objectContaining({ name: 'get_weather' })] });
    expect(model.requests[0].tools).toEqual([{ type: 'function', function: WEATHER_TOOL.function }]);
    expect(model.requests[0].stop).toBeUndefined();
  });

  it('forces a call with tool_choice required: pre-fills the call, parses the continuation, stops at </tool_call>', async () => {
    const { model, run, request } = setUp();
    model.behaviour = () => fakeAnswer('get_weather", "arguments": {"city": "Rome"}}\n');
    const events = await run(request('anything'), { tools: planOpenAiTools({ tools: [WEATHER_TOOL], tool_choice: 'required' }), structured: null });
    expect(model.requests[0].assistantPrefill).toBe('<tool_call>\n{"name": "');
    expect(model.requests[0].stop).toEqual(['</tool_call>']);
    expect(textOf(events)).toBe('');
    expect(doneOf(events).toolCalls.map((c) => [c.name, c.arguments])).toEqual([['get_weather', { city: 'Rome' }]]);
  });

  it('asks for JSON, pre-fills the brace, stops when the value closes and emits the whole value', async () => {
    const { model, run, request } = setUp();
    model.behaviour = () => fakeAnswer('"city": "Oslo"}', { chunks: ['"city": ', '"Oslo"}'] });
    const plan = { tools: null, structured: planOpenAiResponseFormat({ type: 'json_schema', json_schema: { name: 'place', schema: CITY_SCHEMA } }) };
    const events = await run(request('where?'), plan);
    expect(textOf(events)).toBe('{"city": "Oslo"}');
    const sent = model.requests[0];
    expect(sent.assistantPrefill).toBe('{');
    expect(sent.messages?.[0]).toEqual({ role: 'system', content: expect.stringContaining('"required":["city"]') });
    const detector = sent.endDetector?.();
    expect(detector?.push('"a": {"b": "}"}} trailing')).toBe('"a": {"b": "}"}}'.length);
  });

  it('retries an invalid JSON answer once with the error, and answers the valid second one (text held until valid)', async () => {
    const { model, run, request } = setUp(1);
    const answers = ['"town": "Oslo"}', '"city": "Oslo"}'];
    model.behaviour = () => fakeAnswer(answers[model.requests.length - 1], { promptTokens: 20, completionTokens: 7 });
    const plan = { tools: null, structured: planOpenAiResponseFormat({ type: 'json_schema', json_schema: { name: 'place', schema: CITY_SCHEMA } }) };
    const events = await run(request('where?'), plan);
    expect(events.map((e) => e.type)).toEqual(['start', 'text', 'done']);
    expect(textOf(events)).toBe('{"city": "Oslo"}');
    expect(doneOf(events)).toMatchObject({ attempts: 2, usage: { promptTokens: 40, completionTokens: 14 } });
    const retry = model.requests[1].messages ?? [];
    expect(retry.slice(-2)).toEqual([
      { role: 'assistant', content: '{"town": "Oslo"}' },
      { role: 'user', content: expect.stringContaining("unexpected property 'town'") },
    ]);
  });

  it('fails with StructuredOutputError (param, attempts) when the answer is still invalid after the retries', async () => {
    const { model, turn, request } = setUp(1);
    model.behaviour = () => fakeAnswer('not json at all');
    const plan = { tools: null, structured: planOpenAiResponseFormat({ type: 'json_object' }) };
    const failure = firstValueFrom(turn.answer(request('x'), plan, { streamed: false }).pipe(toArray()));
    await expect(failure).rejects.toThrow(StructuredOutputError);
    await expect(failure).rejects.toMatchObject({ param: 'response_format', message: expect.stringContaining('after 2 attempts') });
    expect(model.requests).toHaveLength(2);
  });

  it('streams a JSON answer as produced and does not retry it (its text is already out): it ends with the error', async () => {
    const { model, turn, request } = setUp(2);
    model.behaviour = () => fakeAnswer('oops');
    const seen: AnswerEvent[] = [];
    const plan = { tools: null, structured: planOpenAiResponseFormat({ type: 'json_object' }) };
    const error = await new Promise<unknown>((resolve) => turn.answer(request('x'), plan, { streamed: true }).subscribe({ next: (e) => seen.push(e), error: resolve }));
    expect(error).toBeInstanceOf(StructuredOutputError);
    expect(textOf(seen)).toBe('{oops');
    expect(model.requests).toHaveLength(1);
  });

  it('refuses a schema ajv cannot compile before any generation', async () => {
    const { model, turn, request } = setUp();
    const plan = { tools: null, structured: planOpenAiResponseFormat({ type: 'json_schema', json_schema: { name: 'bad', schema: { type: 'object', properties: { a: { type: 'no-such-type' } } } } }) };
    await expect(lastValueFrom(turn.answer(request('x'), plan, { streamed: false }))).rejects.toMatchObject({ param: 'response_format' });
    expect(model.requests).toHaveLength(0);
  });
});
