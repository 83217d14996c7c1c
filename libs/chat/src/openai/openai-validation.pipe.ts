import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { OpenAiError } from './openai-error';

/** The first failed constraint in a validation tree, with its path in OpenAI's notation (`messages[0].content`). */
function firstValidationProblem(errors: ValidationError[], parent = ''): { param: string; message: string } | null {
  for (const error of errors) {
    const isIndex = /^\d+$/.test(error.property);
    const param = parent ? (isIndex ? `${parent}[${error.property}]` : `${parent}.${error.property}`) : error.property;
    const messages = Object.values(error.constraints ?? {});
    if (messages.length) {
      // class-validator messages start with the property name: name the full path instead.
      const first = messages[0];
      const rest = first.startsWith(error.property) ? first.slice(error.property.length).replace(/^:?\s*/, '') : first;
      return { param, message: `Invalid '${param}': ${rest}` };
    }
    const nested = firstValidationProblem(error.children ?? [], param);
    if (nested) return nested;
  }
  return null;
}

/**
 * class-validator for OpenAI bodies: unknown fields are ignored (stripped), like OpenAI; the first
 * problem is answered as 400 invalid_request_error naming the field in `param`.
 */
export class OpenAiValidationPipe extends ValidationPipe {
  constructor() {
    super({
      transform: true,
      whitelist: true,
      forbidNonWhitelisted: false,
      stopAtFirstError: true,
      exceptionFactory: (errors: ValidationError[]) => {
        const problem = firstValidationProblem(errors);
        return OpenAiError.invalidRequest(problem?.message ?? 'Invalid request body', problem?.param ?? null);
      },
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && (value === null || typeof value !== 'object' || Array.isArray(value))) {
      throw OpenAiError.invalidRequest(
        'We could not parse the JSON body of your request: expected a JSON object, sent with Content-Type: application/json.',
      );
    }
    return super.transform(value, metadata);
  }
}
