import { planOllamaTools, planOpenAiTools, toolCallStopSequences, toolChoicePrefill } from './tool-plan';
import { ToolRequestError } from './tool-request-error';
import { normalizeToolChoice, normalizeToolDeclarations, toTemplateTools } from './tool-spec';

const WEATHER = { type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: {} } } };
const LIGHT = { type: 'function', function: { name: 'turn_on' } };

function requestError(action: () => unknown): ToolRequestError {
  try {
    action();
  } catch (error) {
    if (error instanceof ToolRequestError) return error;
    throw error;
  }
  throw new Error('expected a ToolRequestError');
}

describe(normalizeToolDeclarations.name, () => {
  it('reads Chat Completions / Ollama nested and Responses flat declarations into one shape', () => {
    expect(normalizeToolDeclarations([WEATHER, LIGHT, { type: 'function', name: 'flat', description: 'Flat one', parameters: { type: 'object' }, strict: true } as never])).toEqual([
      { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: {} } },
      { name: 'turn_on', parameters: { type: 'object', properties: {} } },
      { name: 'flat', description: 'Flat one', parameters: { type: 'object' } },
    ]);
    expect(normalizeToolDeclarations(undefined)).toEqual([]);
  });

  it.each([
    [[{ type: 'web_search' }], 'tools[0].type', /Only function tools/],
    [[{ type: 'function', function: { description: 'x' } }], 'tools[0].function.name', /non-empty string/],
    [[WEATHER, WEATHER], 'tools[1].function.name', /declared twice/],
    [[{ type: 'function', function: { name: 'a', parameters: 'x' } }], 'tools[0].function.parameters', /JSON Schema object/],
    [[null], 'tools[0]', /must be an object/],
    ['nope', 'tools', /must be an array/],
  ])('refuses %j with a 400-ready error naming %s', (tools, param, message) => {
    const error = requestError(() => normalizeToolDeclarations(tools as never));
    expect(error.param).toBe(param);
    expect(error.message).toMatch(message);
  });
});

describe(normalizeToolChoice.name, () => {
  const tools = normalizeToolDeclarations([WEATHER]);
  it('defaults to auto with tools and none without', () => {
    expect(normalizeToolChoice(undefined, tools)).toEqual({ mode: 'auto' });
    expect(normalizeToolChoice(null, [])).toEqual({ mode: 'none' });
  });
  it('reads the string modes and both named-function shapes', () => {
    expect(normalizeToolChoice('none', tools)).toEqual({ mode: 'none' });
    expect(normalizeToolChoice('required', tools)).toEqual({ mode: 'required' });
    expect(normalizeToolChoice({ type: 'function', function: { name: 'get_weather' } }, tools)).toEqual({ mode: 'function', name: 'get_weather' });
    expect(normalizeToolChoice({ type: 'function', name: 'get_weather' }, tools)).toEqual({ mode: 'function', name: 'get_weather' });
  });
  it('refuses required without tools, an undeclared function and unknown values', () => {
    expect(requestError(() => normalizeToolChoice('required', [])).message).toMatch(/no tools are declared/);
    expect(requestError(() => normalizeToolChoice({ type: 'function', function: { name: 'nope' } }, tools)).message).toMatch(/'nope', which is not among/);
    expect(requestError(() => normalizeToolChoice('always', tools)).param).toBe('tool_choice');
  });
});

describe(toTemplateTools.name, () => {
  it('leaves out an absent description instead of printing null', () => {
    expect(toTemplateTools(normalizeToolDeclarations([LIGHT]))).toEqual([{ type: 'function', function: { name: 'turn_on', parameters: { type: 'object', properties: {} } } }]);
  });
});

describe(toolChoicePrefill.name, () => {
  it('opens the call for required and fills the name for a named function', () => {
    expect(toolChoicePrefill({ mode: 'required' })).toBe('<tool_call>\n{"name": "');
    expect(toolChoicePrefill({ mode: 'function', name: 'get_weather' })).toBe('<tool_call>\n{"name": "get_weather", "arguments": ');
    expect(toolChoicePrefill({ mode: 'auto' })).toBeNull();
    expect(toolChoicePrefill({ mode: 'none' })).toBeNull();
  });
});

describe(toolCallStopSequences.name, () => {
  it('stops at the first </tool_call> when one call is all that is wanted', () => {
    expect(toolCallStopSequences({ mode: 'auto' }, true)).toEqual([]);
    expect(toolCallStopSequences({ mode: 'auto' }, false)).toEqual(['</tool_call>']);
    expect(toolCallStopSequences({ mode: 'required' }, true)).toEqual(['</tool_call>']);
    expect(toolCallStopSequences({ mode: 'function', name: 'x' }, true)).toEqual(['</tool_call>']);
    expect(toolCallStopSequences({ mode: 'none' }, false)).toEqual([]);
  });
});

describe(planOpenAiTools.name, () => {
  it('is null without tools', () => {
    expect(planOpenAiTools({})).toBeNull();
    expect(planOpenAiTools({ tools: [], tool_choice: 'auto' })).toBeNull();
  });
  it('offers nothing and accepts no call for tool_choice none', () => {
    expect(planOpenAiTools({ tools: [WEATHER], tool_choice: 'none' })).toEqual({
      offeredTools: [],
      declaredNames: [],
      choice: { mode: 'none' },
      prefill: null,
      stopSequences: [],
    });
  });
  it('plans a named function with its prefill and stop', () => {
    const plan = planOpenAiTools({ tools: [WEATHER, LIGHT], tool_choice: { type: 'function', function: { name: 'turn_on' } }, parallel_tool_calls: true });
    expect(plan).toMatchObject({
      declaredNames: ['get_weather', 'turn_on'],
      prefill: '<tool_call>\n{"name": "turn_on", "arguments": ',
      stopSequences: ['</tool_call>'],
    });
    expect(plan?.offeredTools).toHaveLength(2);
  });
  it('honours parallel_tool_calls false for auto', () => {
    expect(planOpenAiTools({ tools: [WEATHER], parallel_tool_calls: false })?.stopSequences).toEqual(['</tool_call>']);
  });
});

describe(planOllamaTools.name, () => {
  it('plans auto with parallel calls', () => {
    expect(planOllamaTools([WEATHER])).toMatchObject({ choice: { mode: 'auto' }, declaredNames: ['get_weather'], prefill: null, stopSequences: [] });
    expect(planOllamaTools(undefined)).toBeNull();
  });
});
