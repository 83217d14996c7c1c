import { jsonValidateFailedMessage, planOllamaFormat, planOpenAiResponseFormat, structuredOutputRetryMessage } from './structured-output-plan';
import { ToolRequestError } from './tool-request-error';

const PERSON = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  properties: { name: { type: 'string' }, age: { type: 'integer' } },
  required: ['name', 'age'],
  additionalProperties: false,
};

describe(planOpenAiResponseFormat.name, () => {
  it('is null for absent and text', () => {
    expect(planOpenAiResponseFormat(undefined)).toBeNull();
    expect(planOpenAiResponseFormat({ type: 'text' })).toBeNull();
  });

  it('plans json_object with an instruction and an opening brace', () => {
    expect(planOpenAiResponseFormat({ type: 'json_object' })).toEqual({
      kind: 'json_object',
      schema: null,
      name: null,
      strict: false,
      param: 'response_format',
      instruction: 'Answer with one JSON object and nothing else.',
      prefill: '{',
    });
  });

  it('plans json_schema with the schema minified (dialect left out) in the instruction', () => {
    const plan = planOpenAiResponseFormat({ type: 'json_schema', json_schema: { name: 'person', description: 'A person', schema: PERSON, strict: true } });
    expect(plan).toMatchObject({ kind: 'json_schema', schema: PERSON, name: 'person', strict: true, prefill: '{' });
    expect(plan?.instruction).toBe(
      'Answer with one JSON value (A person) and nothing else. It must match this JSON Schema: ' +
        '{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"}},"required":["name","age"],"additionalProperties":false}',
    );
  });

  it('reads the Responses API flat text.format and pre-fills [ for an array root', () => {
    const plan = planOpenAiResponseFormat({ type: 'json_schema', name: 'list', schema: { type: 'array', items: { type: 'string' } } }, 'text.format');
    expect(plan).toMatchObject({ name: 'list', param: 'text.format', prefill: '[', strict: false });
  });

  it('pre-fills nothing for a scalar or union root', () => {
    expect(planOpenAiResponseFormat({ type: 'json_schema', json_schema: { name: 'n', schema: { type: 'number' } } })?.prefill).toBe('');
    expect(planOpenAiResponseFormat({ type: 'json_schema', json_schema: { name: 'u', schema: { anyOf: [{ type: 'string' }, { type: 'object' }] } } })?.prefill).toBe('');
  });

  it('refuses an unknown type and a json_schema without a schema', () => {
    expect(() => planOpenAiResponseFormat({ type: 'yaml' })).toThrow(ToolRequestError);
    expect(() => planOpenAiResponseFormat({ type: 'json_schema', json_schema: { name: 'x' } })).toThrow("'response_format.json_schema.schema' must be a JSON Schema object.");
    expect(() => planOpenAiResponseFormat('json' as never)).toThrow(/must be an object/);
  });
});

describe(planOllamaFormat.name, () => {
  it('reads "json", a schema, and nothing', () => {
    expect(planOllamaFormat('json')).toMatchObject({ kind: 'json_object', param: 'format', prefill: '{' });
    expect(planOllamaFormat(PERSON)).toMatchObject({ kind: 'json_schema', schema: PERSON, param: 'format', prefill: '{' });
    expect(planOllamaFormat(undefined)).toBeNull();
    expect(planOllamaFormat('')).toBeNull();
  });

  it('refuses anything else', () => {
    expect(() => planOllamaFormat('yaml')).toThrow(`'format' must be "json" or a JSON Schema object.`);
  });
});

describe('structured output messages', () => {
  it('words the retry and the final failure', () => {
    expect(structuredOutputRetryMessage('The answer is not valid JSON (x).')).toBe('That answer is not valid: The answer is not valid JSON (x).\nAnswer again with only the corrected JSON.');
    expect(jsonValidateFailedMessage('bad', 2)).toBe("The model's answer did not match the requested JSON format after 2 attempts: bad");
    expect(jsonValidateFailedMessage('bad', 1)).toMatch(/after 1 attempt: bad$/);
  });
});
