import { ValidationArguments, ValidationOptions, registerDecorator } from 'class-validator';

const IMAGE_PART_TYPES = new Set(['image_url', 'image', 'input_image']);

/** Why a message content is invalid, or null when it is a string or an array of text parts. */
function messageContentProblem(value: unknown): string | null {
  if (typeof value === 'string') return null;
  if (!Array.isArray(value)) return 'must be a string or an array of content parts';
  for (const [index, part] of value.entries()) {
    const type = (part as { type?: unknown } | null)?.type;
    if (typeof type === 'string' && IMAGE_PART_TYPES.has(type)) return 'images are not supported: this model reads text only';
    if (type === 'input_audio' || type === 'file') return `${type} parts are not supported: this model reads text only`;
    if (type !== 'text' || typeof (part as { text?: unknown }).text !== 'string') {
      return `part ${index} must be {"type": "text", "text": string}`;
    }
  }
  return null;
}

/** A chat message's content: a string, or an array of `{type:"text", text}` parts (images: not supported). */
export function IsMessageContent(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isMessageContent',
      target: target.constructor,
      propertyName: String(propertyName),
      options,
      validator: {
        validate: (value: unknown) => messageContentProblem(value) === null,
        defaultMessage: (args?: ValidationArguments) => `$property ${messageContentProblem(args?.value) ?? 'is invalid'}`,
      },
    });
}

/** `stop`: a string or an array of at most 4 strings. */
export function IsStopSequences(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isStopSequences',
      target: target.constructor,
      propertyName: String(propertyName),
      options,
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' || (Array.isArray(value) && value.length <= 4 && value.every((s) => typeof s === 'string')),
        defaultMessage: () => '$property must be a string or an array of up to 4 strings',
      },
    });
}

/** Legacy `prompt`: a string or an array of exactly one string (token-id prompts are not supported). */
export function IsLegacyPrompt(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isLegacyPrompt',
      target: target.constructor,
      propertyName: String(propertyName),
      options,
      validator: {
        validate: (value: unknown) => typeof value === 'string' || (Array.isArray(value) && value.length === 1 && typeof value[0] === 'string'),
        defaultMessage: (args?: ValidationArguments) =>
          Array.isArray(args?.value) && args.value.length > 1 && args.value.every((p: unknown) => typeof p === 'string')
            ? '$property: only one prompt per request is supported'
            : '$property must be a string or an array of one string (token-id prompts are not supported)',
      },
    });
}
