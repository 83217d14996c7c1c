import { Injectable } from '@nestjs/common';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import Ajv2019 from 'ajv/dist/2019';
import Ajv2020 from 'ajv/dist/2020';
import type { StructuredOutputPlan } from './structured-output-plan';
import { ToolRequestError } from './tool-request-error';
import type { JsonSchema } from './tool-spec';

/** The outcome of checking one answer. `error` is one sentence for a retry prompt and an error body. */
export type StructuredOutputCheck = { valid: true; value: unknown } | { valid: false; error: string };

const AJV_OPTIONS = { strict: false, allErrors: true, logger: false } as const;
const MAX_LISTED_ERRORS = 5;

/**
 * JSON.parse, then JSON-Schema validation with ajv (draft-07 by default; 2019-09 and 2020-12 when the
 * schema's `$schema` says so). Unknown keywords and formats are ignored, not fatal. Compiled schemas are
 * cached per schema object.
 */
@Injectable()
export class StructuredOutputValidator {
  private readonly draft07 = new Ajv(AJV_OPTIONS);
  private readonly draft2019 = new Ajv2019(AJV_OPTIONS);
  private readonly draft2020 = new Ajv2020(AJV_OPTIONS);
  private readonly compiled = new WeakMap<JsonSchema, ValidateFunction>();

  /** Checks the plan's schema before any generation; throws ToolRequestError (a 400) when ajv cannot compile it. */
  prepare(plan: StructuredOutputPlan): void {
    if (plan.schema) this.compile(plan.schema, plan.param);
  }

  /** Checks the complete answer text (pre-fill included). */
  check(plan: StructuredOutputPlan, text: string): StructuredOutputCheck {
    if (text.trim() === '') return { valid: false, error: 'The answer is empty; a JSON value was expected.' };
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      return { valid: false, error: `The answer is not valid JSON (${(error as Error).message}).` };
    }
    if (plan.kind === 'json_object' || !plan.schema) {
      return typeof value === 'object' && value !== null && !Array.isArray(value)
        ? { valid: true, value }
        : { valid: false, error: 'The answer is JSON but not an object.' };
    }
    const validate = this.compile(plan.schema, plan.param);
    if (validate(value)) return { valid: true, value };
    return { valid: false, error: `The JSON does not match the schema: ${describeErrors(validate.errors ?? [])}.` };
  }

  private compile(schema: JsonSchema, param: string): ValidateFunction {
    const cached = this.compiled.get(schema);
    if (cached) return cached;
    try {
      const validate = this.engineFor(schema).compile(schema);
      this.compiled.set(schema, validate);
      return validate;
    } catch (error) {
      throw new ToolRequestError(param, `'${param}' holds a JSON Schema that cannot be used: ${(error as Error).message}`);
    }
  }

  private engineFor(schema: JsonSchema): Ajv {
    const dialect = typeof schema.$schema === 'string' ? schema.$schema : '';
    if (dialect.includes('2020-12')) return this.draft2020;
    if (dialect.includes('2019-09')) return this.draft2019;
    return this.draft07;
  }
}

function describeErrors(errors: readonly ErrorObject[]): string {
  const listed = errors.slice(0, MAX_LISTED_ERRORS).map(describeError);
  const more = errors.length - listed.length;
  return more > 0 ? `${listed.join('; ')}; and ${more} more` : listed.join('; ');
}

function describeError(error: ErrorObject): string {
  const at = error.instancePath === '' ? 'the value' : error.instancePath;
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'additionalProperties') return `${at} has the unexpected property '${String(params.additionalProperty)}'`;
  if (error.keyword === 'enum') return `${at} must be one of ${JSON.stringify(params.allowedValues)}`;
  return `${at} ${error.message ?? 'is invalid'}`;
}
