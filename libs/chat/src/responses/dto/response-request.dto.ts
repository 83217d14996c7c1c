import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsNotEmpty, IsNumber, IsObject, IsOptional, IsString, Max, Min, ValidateNested } from 'class-validator';
import type { ToolChoiceInput, ToolDeclarationInput } from '@qwen/tools';
import { IsResponseInput, IsResponseMetadata, type ResponseInputItem } from './response-input-validators';
import { LARGEST_OUTPUT_LIMIT } from '../../common/output-limit';

/** `text`: how the answer is formatted; `format` is checked by planOpenAiResponseFormat (text, json_object, json_schema). */
export class ResponseTextDto {
  @IsOptional() @IsObject() format?: Record<string, unknown> | null;
  @IsOptional() @IsIn(['low', 'medium', 'high']) verbosity?: string | null;
}

/**
 * `POST /v1/responses`, stateless: `store` is accepted and treated as false; `previous_response_id`
 * and `conversation` are refused with a 400 that says so. The sampling fields are accepted, range-checked
 * like OpenAI, but the runner samples with the settings it loaded (`X-Qwen-Sampling` says which).
 * Unknown fields are ignored, like OpenAI.
 */
export class ResponseRequestDto {
  @IsString() @IsNotEmpty() model!: string;
  @IsResponseInput() input!: string | ResponseInputItem[];
  @IsOptional() @IsString() instructions?: string | null;
  @IsOptional() @IsInt() @Min(1) @Max(LARGEST_OUTPUT_LIMIT) max_output_tokens?: number | null;

  /** Checked by planOpenAiTools (function tools only, flat Responses shape). */
  @IsOptional() tools?: ToolDeclarationInput[] | null;
  @IsOptional() tool_choice?: ToolChoiceInput;
  @IsOptional() @IsBoolean() parallel_tool_calls?: boolean | null;
  @IsOptional() @IsObject() @ValidateNested() @Type(() => ResponseTextDto) text?: ResponseTextDto | null;

  @IsOptional() @IsResponseMetadata() metadata?: Record<string, string> | null;
  @IsOptional() @IsBoolean() store?: boolean | null;
  @IsOptional() @IsBoolean() stream?: boolean | null;
  @IsOptional() @IsString() previous_response_id?: string | null;
  @IsOptional() conversation?: unknown;
  @IsOptional() @IsIn([false], { message: '$property: background responses are not supported (the server keeps no responses)' }) background?: boolean | null;
  @IsOptional() @IsIn(['disabled', 'auto']) truncation?: string | null;

  @IsOptional() @IsNumber() @Min(0) @Max(2) temperature?: number | null;
  @IsOptional() @IsNumber() @Min(0) @Max(1) top_p?: number | null;
  @IsOptional() @IsIn([0], { message: '$property: log probabilities are not supported' }) top_logprobs?: number | null;
  @IsOptional() @IsString() user?: string | null;
}
