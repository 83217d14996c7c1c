import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { CompletionFieldsDto } from './sampling-fields.dto';
import { IsMessageContent } from './openai-validators';

const OPENAI_ROLES = ['system', 'developer', 'user', 'assistant', 'tool'] as const;
export type OpenAiRole = (typeof OPENAI_ROLES)[number];

export interface TextPart {
  type: 'text';
  text: string;
}

export class ChatMessageDto {
  @IsIn(OPENAI_ROLES) role!: OpenAiRole;
  /** Required, except on assistant messages (which may carry only tool calls in OpenAI's API). */
  @ValidateIf((m: ChatMessageDto) => m.role !== 'assistant' || (m.content !== null && m.content !== undefined))
  @IsMessageContent()
  content!: string | TextPart[] | null;
  @IsOptional() @IsString() name?: string | null;
  @IsOptional() @IsString() tool_call_id?: string | null;
}

export class ResponseFormatDto {
  @IsIn(['text'], { message: "$property: only 'text' is supported for now (JSON modes and schemas come later)" }) type!: string;
}

export class ChatCompletionRequestDto extends CompletionFieldsDto {
  @IsArray() @ArrayMinSize(1) @ValidateNested({ each: true }) @Type(() => ChatMessageDto) messages!: ChatMessageDto[];
  @IsOptional() @IsInt() @Min(1) max_completion_tokens?: number | null;

  @IsOptional() @IsArray() @ArrayMaxSize(0, { message: '$property: tool calling is not supported yet' }) tools?: unknown[] | null;
  @IsOptional() @IsIn(['none', 'auto'], { message: '$property: tool calling is not supported yet' }) tool_choice?: unknown;
  @IsOptional() @IsArray() @ArrayMaxSize(0, { message: '$property: function calling is not supported yet' }) functions?: unknown[] | null;
  @IsOptional() @IsIn(['none', 'auto'], { message: '$property: function calling is not supported yet' }) function_call?: unknown;
  @IsOptional() @IsObject() @ValidateNested() @Type(() => ResponseFormatDto) response_format?: ResponseFormatDto | null;
  @IsOptional() @IsIn([false], { message: '$property: log probabilities are not supported' }) logprobs?: boolean | null;
}
