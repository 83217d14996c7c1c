import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import type { ResponseEcho } from './response-object';
import { ResponseSseWriter } from './response-sse.writer';

const echo: ResponseEcho = {
  id: 'resp_1',
  created_at: 1700000000,
  model: 'qwen2.5-1.5b',
  instructions: null,
  max_output_tokens: null,
  metadata: { k: 'v' },
  parallel_tool_calls: true,
  temperature: null,
  top_p: null,
  text: { format: { type: 'text' } },
  tool_choice: 'auto',
  tools: [],
  user: null,
};

/** The events of a stream, parsed as the official SDK types them; checks that `event:` names the data's type. */
function parse(stream: string): ResponseStreamEvent[] {
  return stream
    .split('\n\n')
    .filter(Boolean)
    .map((frame) => {
      const [eventLine, dataLine] = frame.split('\n');
      const data = JSON.parse(dataLine.replace(/^data: /, '')) as ResponseStreamEvent;
      expect(eventLine).toBe(`event: ${data.type}`);
      return data;
    });
}

describe(ResponseSseWriter.name, () => {
  it('streams text in the official order, numbering every event from 0', () => {
    const writer = new ResponseSseWriter(echo);
    const events = parse(
      writer.start() + writer.delta('Hel') + writer.delta('lo') + writer.done({ finishReason: 'stop', usage: { promptTokens: 5, completionTokens: 2 } }),
    );
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
    expect(events.map((e) => e.sequence_number)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(events[0]).toMatchObject({ response: { id: 'resp_1', status: 'in_progress', output: [], usage: null, metadata: { k: 'v' } } });
    expect(events[2]).toMatchObject({ item: { type: 'message', status: 'in_progress', content: [] } });
    expect(events[6]).toMatchObject({ text: 'Hello' });
    const itemId = (events[2] as Extract<ResponseStreamEvent, { type: 'response.output_item.added' }>).item.id;
    expect(events[4]).toMatchObject({ item_id: itemId });
    expect(events[9]).toMatchObject({
      response: {
        status: 'completed',
        incomplete_details: null,
        usage: { input_tokens: 5, output_tokens: 2, total_tokens: 7 },
        output: [{ id: itemId, type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Hello' }] }],
      },
    });
  });

  it('closes the message before a function call and streams the call as one arguments delta', () => {
    const writer = new ResponseSseWriter(echo);
    const events = parse(
      writer.start() +
        writer.delta('Checking.') +
        writer.toolCall(0, { id: 'call_a', name: 'weather', argumentsJson: '{"city":"Paris"}' }) +
        writer.done({ finishReason: 'tool_calls', usage: { promptTokens: 9, completionTokens: 20 } }),
    );
    expect(events.slice(5).map((e) => e.type)).toEqual([
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events[8]).toMatchObject({ output_index: 1, item: { type: 'function_call', status: 'in_progress', call_id: 'call_a', arguments: '' } });
    expect(events[10]).toMatchObject({ arguments: '{"city":"Paris"}', name: 'weather' });
    expect(events[12]).toMatchObject({
      response: { output: [{ type: 'message' }, { type: 'function_call', status: 'completed', call_id: 'call_a', name: 'weather', arguments: '{"city":"Paris"}' }] },
    });
  });

  it('answers an empty message when nothing was output, and marks a cut answer incomplete', () => {
    const writer = new ResponseSseWriter(echo);
    const events = parse(writer.start() + writer.done({ finishReason: 'length', usage: { promptTokens: 1, completionTokens: 0 } }));
    expect(events.at(-1)).toMatchObject({
      type: 'response.incomplete',
      response: {
        status: 'incomplete',
        incomplete_details: { reason: 'max_output_tokens' },
        output: [{ type: 'message', status: 'incomplete', content: [{ type: 'output_text', text: '' }] }],
      },
    });
  });

  it('ends a failed stream with response.failed carrying the error code and message', () => {
    const writer = new ResponseSseWriter(echo);
    const events = parse(
      writer.start() + writer.delta('Hi') + writer.errorFrame({ error: { message: 'the runner died', type: 'server_error', param: null, code: 'model_process_failed' } }),
    );
    expect(events.map((e) => e.type).slice(-4)).toEqual(['response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.failed']);
    expect(events.at(-1)).toMatchObject({ response: { status: 'failed', error: { code: 'model_process_failed', message: 'the runner died' } } });
  });
});
