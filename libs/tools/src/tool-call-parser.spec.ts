import { ToolCallParser, ToolCallStreamParser, newToolCallId, type ToolCallStreamStep } from './tool-call-parser';

const TOOLS = ['get_weather', 'turn_on'];
const sequentialIds = (): (() => string) => {
  let n = 0;
  return () => `call_${++n}`;
};

describe(ToolCallParser.name, () => {
  const parser = new ToolCallParser(TOOLS, sequentialIds());
  const calls = (text: string) => new ToolCallParser(TOOLS, sequentialIds()).parse(text).toolCalls.map(({ name, arguments: args }) => ({ name, args }));

  it('parses one call in the format the chat template teaches', () => {
    const result = new ToolCallParser(TOOLS, sequentialIds()).parse('<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>');
    expect(result).toEqual({
      content: null,
      toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' }, argumentsJson: '{"city":"Paris"}' }],
      trailingText: '',
    });
  });

  it('parses several calls and keeps the text before the first as content', () => {
    const result = parser.parse(
      'Let me check.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\n<tool_call>\n{"name": "turn_on", "arguments": {"entity": "light.kitchen"}}\n</tool_call>',
    );
    expect(result.content).toBe('Let me check.');
    expect(result.toolCalls.map((c) => [c.name, c.arguments])).toEqual([
      ['get_weather', { city: 'Paris' }],
      ['turn_on', { entity: 'light.kitchen' }],
    ]);
    expect(result.trailingText).toBe('\n');
  });

  it('accepts a missing closing tag at the end and before the next call', () => {
    expect(calls('<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"}}')).toEqual([{ name: 'get_weather', args: { city: 'Oslo' } }]);
    expect(calls('<tool_call>{"name": "get_weather", "arguments": {}}\n<tool_call>{"name": "turn_on", "arguments": {}}</tool_call>')).toEqual([
      { name: 'get_weather', args: {} },
      { name: 'turn_on', args: {} },
    ]);
  });

  it('reads braces, tags and fences inside JSON strings as data', () => {
    const text = '<tool_call>\n{"name": "turn_on", "arguments": {"note": "a } b { </tool_call> ``` \\" <tool_call>"}}\n</tool_call>';
    expect(calls(text)).toEqual([{ name: 'turn_on', args: { note: 'a } b { </tool_call> ``` " <tool_call>' } }]);
  });

  it('reads two objects written inside one block as two calls', () => {
    expect(calls('<tool_call>\n{"name": "turn_on", "arguments": {}}\n{"name": "get_weather", "arguments": {"city": "Rome"}}\n</tool_call>')).toEqual([
      { name: 'turn_on', args: {} },
      { name: 'get_weather', args: { city: 'Rome' } },
    ]);
  });

  it('tolerates a stray closing brace before the closing tag', () => {
    expect(calls('<tool_call>\n{"name": "turn_on", "arguments": {"a": 1}}}\n</tool_call>')).toEqual([{ name: 'turn_on', args: { a: 1 } }]);
  });

  it('accepts "parameters" for "arguments", arguments as a JSON string, absent arguments and the function wrapper', () => {
    expect(calls('<tool_call>{"name": "turn_on", "parameters": {"a": 1}}</tool_call>')).toEqual([{ name: 'turn_on', args: { a: 1 } }]);
    expect(calls('<tool_call>{"name": "turn_on", "arguments": "{\\"a\\": 2}"}</tool_call>')).toEqual([{ name: 'turn_on', args: { a: 2 } }]);
    expect(calls('<tool_call>{"name": "turn_on"}</tool_call>')).toEqual([{ name: 'turn_on', args: {} }]);
    expect(calls('<tool_call>{"type": "function", "function": {"name": "turn_on", "arguments": {"b": true}}}</tool_call>')).toEqual([
      { name: 'turn_on', args: { b: true } },
    ]);
  });

  it('accepts a fenced json object naming a declared tool, anywhere in the text', () => {
    const result = parser.parse('Sure:\n```json\n{"name": "get_weather", "arguments": {"city": "Rome"}}\n```');
    expect(result.content).toBe('Sure:');
    expect(result.toolCalls.map((c) => c.name)).toEqual(['get_weather']);
    expect(calls('```\n{"name": "turn_on", "arguments": {}}\n```')).toEqual([{ name: 'turn_on', args: {} }]);
  });

  it('accepts a bare object naming a declared tool when only whitespace or calls precede it', () => {
    expect(calls('  {"name": "get_weather", "arguments": {"city": "Rome"}}\n{"name": "turn_on", "arguments": {}}')).toEqual([
      { name: 'get_weather', args: { city: 'Rome' } },
      { name: 'turn_on', args: {} },
    ]);
    expect(calls('Answer: {"name": "get_weather", "arguments": {}}')).toEqual([]);
  });

  it('keeps an undeclared name, unparsable JSON, non-object arguments and other fences as text', () => {
    for (const text of [
      '<tool_call>\n{"name": "rm_rf", "arguments": {}}\n</tool_call>',
      '<tool_call>\n{"name": "turn_on", "arguments": {]}\n</tool_call>',
      '<tool_call>\n{"name": "turn_on", "arguments": [1]}\n</tool_call>',
      '<tool_call>\n{"name": "turn_on", "arguments": "not json"}\n</tool_call>',
      '<tool_call> plain words',
      '```python\nprint({"name": "turn_on"})\n```',
      '```json\n{"name": "turn_on", "arguments": {}}\nmore\n```',
      '{"city": "Paris"}',
      '<tool_call>\n{"name": "turn_on", "arguments": {"a": ',
    ]) {
      expect(parser.parse(text)).toEqual({ content: text, toolCalls: [], trailingText: '' });
    }
  });

  it('answers null content for empty text and keeps plain text untouched', () => {
    expect(parser.parse('')).toEqual({ content: null, toolCalls: [], trailingText: '' });
    expect(parser.parse('Hello there.\n')).toEqual({ content: 'Hello there.\n', toolCalls: [], trailingText: '' });
  });

  it('recognises nothing when no tool is declared', () => {
    expect(new ToolCallParser([]).parse('<tool_call>{"name": "turn_on"}</tool_call>').toolCalls).toEqual([]);
  });

  it('gives every call its own call_ id', () => {
    const ids = new ToolCallParser(TOOLS).parse('<tool_call>{"name": "turn_on"}</tool_call><tool_call>{"name": "turn_on"}</tool_call>').toolCalls.map((c) => c.id);
    expect(ids).toHaveLength(2);
    expect(ids[0]).toMatch(/^call_[0-9a-f]{24}$/);
    expect(ids[0]).not.toBe(ids[1]);
    expect(newToolCallId()).toMatch(/^call_[0-9a-f]{24}$/);
  });
});

describe(ToolCallStreamParser.name, () => {
  function feed(deltas: readonly string[]): { steps: ToolCallStreamStep[]; final: ToolCallStreamStep; parser: ToolCallStreamParser } {
    const parser = new ToolCallStreamParser(TOOLS, sequentialIds());
    const steps = deltas.map((delta) => parser.push(delta));
    return { steps, final: parser.finish(), parser };
  }

  it('releases plain text as it comes, holding only trailing whitespace', () => {
    const { steps, final } = feed(['Hello', ' wor', 'ld\n', 'Bye']);
    expect(steps.map((s) => s.text)).toEqual(['Hello', ' wor', 'ld', '\nBye']);
    expect(final.text).toBe('');
  });

  it('holds back a possible tag start and releases it when it is not one', () => {
    const { steps, final } = feed(['a <to', 'ol', 'box> b']);
    expect(steps.map((s) => s.text)).toEqual(['a', '', ' <toolbox> b']);
    expect(final).toEqual({ text: '', toolCalls: [] });
  });

  it('emits a call in the delta that completes it, and no text after the first call', () => {
    const { steps, final, parser } = feed(['Checking.\n<tool', '_call>\n{"name": "get_weather", ', '"arguments": {"city": "Paris"}}\n</tool_', 'call>\nDone.']);
    expect(steps.map((s) => s.text)).toEqual(['Checking.', '', '', '']);
    expect(steps.map((s) => s.toolCalls.map((c) => c.name))).toEqual([[], [], [], ['get_weather']]);
    expect(final).toEqual({ text: '', toolCalls: [] });
    expect(parser.trailingText).toBe('\nDone.');
  });

  it('completes a call without a closing tag at the end of the answer', () => {
    const { steps, final } = feed(['<tool_call>\n{"name": "turn_on", "arguments": {}}']);
    expect(steps[0].toolCalls).toEqual([]);
    expect(final.toolCalls.map((c) => c.name)).toEqual(['turn_on']);
  });

  it('continues a tool_choice prefill pushed first', () => {
    const parser = new ToolCallStreamParser(TOOLS, sequentialIds());
    expect(parser.push('<tool_call>\n{"name": "turn_on", "arguments": ')).toEqual({ text: '', toolCalls: [] });
    expect(parser.push('{"entity": "light.hall"}}\n</tool_call>').toolCalls).toEqual([
      { id: 'call_1', name: 'turn_on', arguments: { entity: 'light.hall' }, argumentsJson: '{"entity":"light.hall"}' },
    ]);
  });

  it('gives back an unfinished call as text at the end', () => {
    const { steps, final } = feed(['<tool_call>\n{"name": "turn_on", "argu']);
    expect(steps[0].text).toBe('');
    expect(final).toEqual({ text: '<tool_call>\n{"name": "turn_on", "argu', toolCalls: [] });
  });

  it('releases a non-json fence as soon as its language shows', () => {
    const { steps } = feed(['Code:\n``', '`pyth', 'on\nx = 1\n']);
    expect(steps.map((s) => s.text)).toEqual(['Code:', '\n```pyth', 'on\nx = 1']);
  });

  it('passes text straight through when no tool is declared (tool_choice none)', () => {
    const parser = new ToolCallStreamParser([]);
    expect(parser.push('{"name": "turn_on"} <tool_')).toEqual({ text: '{"name": "turn_on"} <tool_', toolCalls: [] });
    expect(parser.finish()).toEqual({ text: '', toolCalls: [] });
  });

  it('ignores pushes after finish', () => {
    const parser = new ToolCallStreamParser(TOOLS);
    parser.finish();
    expect(parser.push('late')).toEqual({ text: '', toolCalls: [] });
    expect(parser.finish()).toEqual({ text: '', toolCalls: [] });
  });

  describe('agrees with ToolCallParser however the text is split', () => {
    const samples = [
      'Plain answer with a < sign and ``` inline.',
      'Let me check.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\n<tool_call>\n{"name": "turn_on", "arguments": {"note": "} </tool_call> {"}}\n</tool_call>',
      '<tool_call>\n{"name": "turn_on", "arguments": {}}',
      '<tool_call>\n{"name": "rm_rf", "arguments": {}}\n</tool_call> after',
      '  {"name": "get_weather", "parameters": "{\\"city\\": \\"Rome\\"}"}\n{"name": "turn_on"}',
      '{"answer": 42}',
      'Sure:\n```json\n{"name": "get_weather", "arguments": {"city": "Rome"}}\n```\nthanks',
      '```json\n{"name": "get_weather", "arguments": {"city": "Rome"}}',
      '<tool_call>\n{"name": "turn_on", "arguments": {"a": 1}}}\n</tool_call>',
      'text then <tool_call> not json',
      'trailing spaces   \n\n',
      '<tool_call>\n{"name": "turn_on", "arguments": {}}\n{"name": "get_weather", "arguments": {"city": "Rome"}}\n</tool_call>',
    ];
    it.each(samples.map((text) => [JSON.stringify(text).slice(0, 60), text]))('%s', (_label, text) => {
      const expected = new ToolCallParser(TOOLS, sequentialIds()).parse(text);
      for (const size of [1, 2, 3, 5, 7, 13, text.length]) {
        const deltas: string[] = [];
        for (let i = 0; i < text.length; i += size) deltas.push(text.slice(i, i + size));
        const { steps, final } = feed(deltas);
        const all = [...steps, final];
        expect(all.map((s) => s.text).join('')).toBe(expected.content ?? '');
        expect(all.flatMap((s) => s.toolCalls)).toEqual(expected.toolCalls);
      }
    });
  });
});

describe(`${ToolCallStreamParser.name} on generated texts`, () => {
  // Fragments the model writes, combined at random (fixed seed): the streamed result must always equal the final parse.
  const FRAGMENTS = [
    'Sure. ',
    '\n',
    '  ',
    '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>',
    '<tool_call>{"name": "turn_on", "parameters": "{\\"x\\": \\"}\\"}"}',
    '<tool_call>\n{"name": "nope", "arguments": {}}\n</tool_call>',
    '```json\n{"name": "turn_on", "arguments": {}}\n```',
    '```py\nx = {"a": 1}\n```',
    '{"name": "get_weather", "arguments": {}}',
    '{"other": "<tool_call>"}',
    '<tool_',
    '<',
    '`',
    '}',
    '{',
    '"',
    'text',
  ];
  function random(seed: number): () => number {
    let state = seed;
    return () => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return state / 2147483648;
    };
  }

  it('agrees with ToolCallParser on 300 random texts split at random points', () => {
    const next = random(42);
    for (let sample = 0; sample < 300; sample++) {
      const text = Array.from({ length: 1 + Math.floor(next() * 6) }, () => FRAGMENTS[Math.floor(next() * FRAGMENTS.length)]).join('');
      const expected = new ToolCallParser(TOOLS, sequentialIds()).parse(text);
      const parser = new ToolCallStreamParser(TOOLS, sequentialIds());
      const steps: ToolCallStreamStep[] = [];
      for (let i = 0; i < text.length; ) {
        const size = 1 + Math.floor(next() * 8);
        steps.push(parser.push(text.slice(i, i + size)));
        i += size;
      }
      steps.push(parser.finish());
      expect({ text, streamed: steps.map((s) => s.text).join(''), calls: steps.flatMap((s) => s.toolCalls) }).toEqual({
        text,
        streamed: expected.content ?? '',
        calls: expected.toolCalls,
      });
    }
  });
});
