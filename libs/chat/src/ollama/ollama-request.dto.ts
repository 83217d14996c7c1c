import { Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  Max,
  IsNotEmpty,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Min,
  ValidateBy,
  ValidateNested,
  ValidationOptions,
} from 'class-validator';
import { LARGEST_OUTPUT_LIMIT } from '../common/output-limit';

/**
 * Request bodies of the Ollama dialect, with Ollama's field names (docs/api.md). Fields Ollama
 * defines but this server cannot honour are declared too, so the mapper can reject them with a
 * clear message instead of silently ignoring them. Unknown fields are ignored, as Ollama does.
 */

function IsStringOrNumber(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isStringOrNumber',
      validator: {
        validate: (value: unknown) => typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value)),
        defaultMessage: () => '$property must be a duration string (e.g. "5m") or a number of seconds',
      },
    },
    options,
  );
}

function IsStringOrStringArray(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isStringOrStringArray',
      validator: {
        validate: (value: unknown) => typeof value === 'string' || (Array.isArray(value) && value.every((v) => typeof v === 'string')),
        defaultMessage: () => '$property must be a string or an array of strings',
      },
    },
    options,
  );
}

/** `options` — the runtime parameters a request may set. Others Ollama knows are accepted and ignored. */
export class OllamaOptionsDto {
  [key: string]: unknown;
  @IsOptional() @IsInt() @Max(LARGEST_OUTPUT_LIMIT) num_predict?: number;
  @IsOptional() @IsInt() @Min(1) num_ctx?: number;
  @IsOptional() @IsStringOrStringArray() stop?: string | string[];
  @IsOptional() @IsNumber() temperature?: number;
  @IsOptional() @IsInt() top_k?: number;
  @IsOptional() @IsNumber() top_p?: number;
  @IsOptional() @IsNumber() min_p?: number;
  @IsOptional() @IsInt() seed?: number;
  @IsOptional() @IsNumber() repeat_penalty?: number;
  @IsOptional() @IsInt() repeat_last_n?: number;
  @IsOptional() @IsNumber() presence_penalty?: number;
  @IsOptional() @IsNumber() frequency_penalty?: number;
}

const OLLAMA_CHAT_ROLES = ['system', 'user', 'assistant', 'tool'] as const;
export type OllamaChatRole = (typeof OLLAMA_CHAT_ROLES)[number];

export class OllamaMessageDto {
  @IsIn(OLLAMA_CHAT_ROLES, { message: `$property must be one of: ${OLLAMA_CHAT_ROLES.join(', ')}` }) role!: OllamaChatRole;
  @IsOptional() @IsString() content?: string;
  @IsOptional() @IsArray() images?: unknown[];
  @IsOptional() @IsArray() tool_calls?: unknown[];
  @IsOptional() @IsString() tool_name?: string;
  @IsOptional() @IsString() thinking?: string;
}

/** Fields /api/chat and /api/generate share. */
export class OllamaGenerationBaseDto {
  @IsString({ message: 'model is required' }) @IsNotEmpty({ message: 'model is required' }) model!: string;
  @IsOptional() @IsBoolean() stream?: boolean;
  /** "json" or a JSON schema (checked by planOllamaFormat). */
  @IsOptional() format?: unknown;
  @IsOptional() @IsObject() @ValidateNested() @Type(() => OllamaOptionsDto) options?: OllamaOptionsDto;
  /** Accepted; the one runner stays loaded regardless. */
  @IsOptional() @IsStringOrNumber() keep_alive?: string | number;
  /** Qwen2.5 does not think: true or a level is a 400, false is fine. */
  @IsOptional() think?: unknown;
}

/** POST /api/chat */
export class OllamaChatRequestDto extends OllamaGenerationBaseDto {
  @IsOptional() @IsArray() @ValidateNested({ each: true }) @Type(() => OllamaMessageDto) messages?: OllamaMessageDto[];
  @IsOptional() @IsArray() tools?: unknown[];
}

/** POST /api/generate */
export class OllamaGenerateRequestDto extends OllamaGenerationBaseDto {
  @IsOptional() @IsString() prompt?: string;
  @IsOptional() @IsString() system?: string;
  @IsOptional() @IsBoolean() raw?: boolean;
  @IsOptional() @IsString() suffix?: string;
  @IsOptional() @IsString() template?: string;
  @IsOptional() @IsArray() images?: unknown[];
  @IsOptional() @IsArray() context?: unknown[];
}

/** POST /api/show and /api/pull: `model`, or the older `name` (the ollama JS client's pull still sends `name`). */
export class OllamaModelNameRequestDto {
  @IsOptional() @IsString() model?: string;
  @IsOptional() @IsString() name?: string;
  @IsOptional() @IsBoolean() stream?: boolean;
  @IsOptional() @IsBoolean() verbose?: boolean;
  @IsOptional() @IsBoolean() insecure?: boolean;
}
