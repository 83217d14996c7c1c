import { toTemplateMessages } from './tool-history';

describe(toTemplateMessages.name, () => {
  it('decodes string arguments into objects and keeps object arguments', () => {
    const [message] = toTemplateMessages([
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'a', arguments: '{"x": [1, {"y": "}"}]}' } },
          { function: { name: 'b', arguments: { z: true } } },
          { function: { name: 'c', arguments: null } },
          { function: { name: 'd', arguments: '  ' } },
        ],
      },
    ]);
    expect(message).toEqual({
      role: 'assistant',
      content: '',
      tool_calls: [
        { type: 'function', function: { name: 'a', arguments: { x: [1, { y: '}' }] } } },
        { type: 'function', function: { name: 'b', arguments: { z: true } } },
        { type: 'function', function: { name: 'c', arguments: {} } },
        { type: 'function', function: { name: 'd', arguments: {} } },
      ],
    });
  });

  it('keeps arguments that are not a JSON object as the string the client sent', () => {
    const [message] = toTemplateMessages([{ role: 'assistant', content: '', tool_calls: [{ function: { name: 'a', arguments: '{broken' } }, { function: { name: 'b', arguments: '[1]' } }] }]);
    expect(message.tool_calls?.map((call) => call.function.arguments)).toEqual(['{broken', '[1]']);
  });

  it('maps developer to system, drops tool ids and names the template has no place for, and leaves empty tool_calls out', () => {
    expect(
      toTemplateMessages([
        { role: 'developer', content: 'Rules' },
        { role: 'assistant', content: 'Hi', tool_calls: [] },
        { role: 'tool', content: '42', tool_call_id: 'call_1', name: 'calc' },
        { role: 'tool', content: undefined, tool_name: 'calc' },
      ]),
    ).toEqual([
      { role: 'system', content: 'Rules' },
      { role: 'assistant', content: 'Hi' },
      { role: 'tool', content: '42' },
      { role: 'tool', content: '' },
    ]);
  });
});
