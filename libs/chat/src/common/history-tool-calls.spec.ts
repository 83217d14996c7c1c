import { ToolRequestError } from '@qwen/tools';
import { historyToolCalls } from './history-tool-calls';

describe(historyToolCalls.name, () => {
  it('decodes OpenAI JSON-string arguments once and keeps Ollama object arguments', () => {
    expect(
      historyToolCalls(
        [
          { function: { name: 'a', arguments: '{"city":"Paris","n":[1,2]}' } },
          { function: { name: 'b', arguments: { city: 'Rome' } } },
          { function: { name: 'c', arguments: '' } },
          { function: { name: 'd' } },
        ],
        'messages[1].tool_calls',
      ),
    ).toEqual([
      { name: 'a', arguments: { city: 'Paris', n: [1, 2] } },
      { name: 'b', arguments: { city: 'Rome' } },
      { name: 'c', arguments: {} },
      { name: 'd', arguments: {} },
    ]);
  });

  it.each([
    [{ function: { arguments: '{}' } }, 'messages[1].tool_calls[0].function.name'],
    [{ function: { name: 'f', arguments: '{oops' } }, 'messages[1].tool_calls[0].function.arguments'],
    [{ function: { name: 'f', arguments: '[1]' } }, 'messages[1].tool_calls[0].function.arguments'],
    [{ function: { name: 'f', arguments: 'null' } }, 'messages[1].tool_calls[0].function.arguments'],
  ])('refuses %j with a ToolRequestError naming %s', (call, param) => {
    const attempt = () => historyToolCalls([call], 'messages[1].tool_calls');
    expect(attempt).toThrow(ToolRequestError);
    expect(attempt).toThrow(expect.objectContaining({ param }) as unknown as Error);
  });
});
