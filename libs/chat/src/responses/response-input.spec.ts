import { responseInputProblem } from './dto/response-input-validators';
import { responseInputMessages } from './response-input';

describe(responseInputMessages.name, () => {
  it('turns a string input into one user message after the instructions', () => {
    expect(responseInputMessages('Be brief.', 'Hi')).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
    ]);
  });

  it('maps message items: developer becomes system, text parts are joined', () => {
    expect(
      responseInputMessages(null, [
        { role: 'developer', content: 'Rules.' },
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'a' }, { type: 'input_text', text: 'b' }] },
        { role: 'assistant', content: [{ type: 'output_text', text: 'ok' }] },
      ]),
    ).toEqual([
      { role: 'system', content: 'Rules.' },
      { role: 'user', content: 'a\nb' },
      { role: 'assistant', content: 'ok' },
    ]);
  });

  it('joins function calls to the assistant message before them and maps their outputs to tool messages', () => {
    expect(
      responseInputMessages(undefined, [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        { role: 'assistant', content: 'Let me look.' },
        { type: 'function_call', call_id: 'call_1', name: 'weather', arguments: '{"city":"Paris"}' },
        { type: 'function_call', call_id: 'call_2', name: 'weather', arguments: '{"city":"Rome"}' },
        { type: 'function_call_output', call_id: 'call_1', output: 'sunny' },
        { type: 'function_call_output', call_id: 'call_2', output: [{ type: 'input_text', text: 'rain' }] },
      ]),
    ).toEqual([
      { role: 'user', content: 'Weather in Paris and Rome?' },
      {
        role: 'assistant',
        content: 'Let me look.',
        toolCalls: [
          { name: 'weather', arguments: { city: 'Paris' } },
          { name: 'weather', arguments: { city: 'Rome' } },
        ],
      },
      { role: 'tool', content: 'sunny' },
      { role: 'tool', content: 'rain' },
    ]);
  });

  it('opens an assistant message for a call that follows a user message, and skips reasoning items', () => {
    expect(
      responseInputMessages(null, [
        { role: 'user', content: 'Time?' },
        { type: 'reasoning' },
        { type: 'function_call', call_id: 'c', name: 'now', arguments: '' },
      ]),
    ).toEqual([
      { role: 'user', content: 'Time?' },
      { role: 'assistant', content: '', toolCalls: [{ name: 'now', arguments: {} }] },
    ]);
  });
});

describe(responseInputProblem.name, () => {
  it('accepts a string and valid items', () => {
    expect(responseInputProblem('hi')).toBeNull();
    expect(responseInputProblem([{ role: 'user', content: 'x' }, { type: 'function_call_output', call_id: 'c', output: 'y' }])).toBeNull();
  });

  it.each([
    [[], 'input must not be an empty array'],
    [42, 'input must be a string or an array of input items'],
    [[{ role: 'tool', content: 'x' }], 'input[0].role must be one of user, assistant, system, developer'],
    [[{ role: 'user', content: [{ type: 'input_image', image_url: 'x' }] }], 'input[0].content[0]: input_image parts are not supported: this model reads text only'],
    [[{ type: 'function_call', call_id: 'c', name: 'f', arguments: '[1]' }], 'input[0].arguments must be the arguments as the text of a JSON object'],
    [[{ type: 'function_call_output', output: 'x' }], 'input[0].call_id must be a non-empty string'],
    [[{ type: 'item_reference', id: 'msg_1' }], 'input[0]: item references are not supported: this server is stateless and keeps no items (send the items themselves)'],
    [[{ type: 'web_search_call' }], "input[0].type 'web_search_call' is not supported (message, function_call, function_call_output)"],
  ])('names the problem of %j', (input, problem) => {
    expect(responseInputProblem(input)).toBe(problem);
  });
});
