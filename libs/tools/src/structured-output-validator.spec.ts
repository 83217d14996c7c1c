import { planOllamaFormat, planOpenAiResponseFormat, type StructuredOutputPlan } from './structured-output-plan';
import { StructuredOutputValidator } from './structured-output-validator';
import { ToolRequestError } from './tool-request-error';

const PERSON = {
  type: 'object',
  properties: { name: { type: 'string' }, age: { type: 'integer', minimum: 0 }, role: { enum: ['admin', 'user'] } },
  required: ['name', 'age'],
  additionalProperties: false,
};
const schemaPlan = (schema: object): StructuredOutputPlan => planOpenAiResponseFormat({ type: 'json_schema', json_schema: { name: 's', schema } }) as StructuredOutputPlan;

describe(StructuredOutputValidator.name, () => {
  const validator = new StructuredOutputValidator();

  it('accepts a matching answer and returns the value', () => {
    expect(validator.check(schemaPlan(PERSON), '{"name": "Ada", "age": 36}')).toEqual({ valid: true, value: { name: 'Ada', age: 36 } });
  });

  it('names each schema violation', () => {
    expect(validator.check(schemaPlan(PERSON), '{"name": 7, "age": -1, "role": "root", "x": 1}')).toEqual({
      valid: false,
      error:
        "The JSON does not match the schema: the value has the unexpected property 'x'; /name must be string; /age must be >= 0; /role must be one of [\"admin\",\"user\"].",
    });
    expect(validator.check(schemaPlan(PERSON), '{}')).toEqual({
      valid: false,
      error: "The JSON does not match the schema: the value must have required property 'name'; the value must have required property 'age'.",
    });
  });

  it('lists at most five violations', () => {
    const many = { type: 'object', properties: Object.fromEntries('abcdefg'.split('').map((k) => [k, { type: 'string' }])) };
    const result = validator.check(schemaPlan(many), JSON.stringify(Object.fromEntries('abcdefg'.split('').map((k) => [k, 1]))));
    expect(result).toMatchObject({ valid: false, error: expect.stringMatching(/\/e must be string; and 2 more\.$/) });
  });

  it('says when the text is not JSON, is empty, or is not an object in json modes', () => {
    const json = planOllamaFormat('json') as StructuredOutputPlan;
    expect(validator.check(json, '{"a": 1')).toMatchObject({ valid: false, error: expect.stringMatching(/^The answer is not valid JSON \(.+\)\.$/) });
    expect(validator.check(json, '  ')).toEqual({ valid: false, error: 'The answer is empty; a JSON value was expected.' });
    expect(validator.check(json, '[1]')).toEqual({ valid: false, error: 'The answer is JSON but not an object.' });
    expect(validator.check(json, '{"a": 1}')).toEqual({ valid: true, value: { a: 1 } });
  });

  it('validates draft 2020-12 schemas (as zod 4 emits them) and ignores unknown formats', () => {
    const plan = schemaPlan({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: { when: { type: 'string', format: 'date-time' }, tags: { type: 'array', prefixItems: [{ type: 'string' }] } },
      required: ['when'],
    });
    validator.prepare(plan);
    expect(validator.check(plan, '{"when": "soon", "tags": ["a"]}')).toEqual({ valid: true, value: { when: 'soon', tags: ['a'] } });
    expect(validator.check(plan, '{"when": "soon", "tags": [1]}')).toMatchObject({ valid: false, error: expect.stringContaining('/tags/0 must be string') });
  });

  it('refuses a schema ajv cannot compile before any generation, naming the field', () => {
    const plan = planOllamaFormat({ type: 'object', properties: { a: { type: 'no-such-type' } } }) as StructuredOutputPlan;
    expect(() => validator.prepare(plan)).toThrow(ToolRequestError);
    expect(() => validator.prepare(plan)).toThrow(/^'format' holds a JSON Schema that cannot be used: /);
  });
});
