import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  Max,
  IsObject,
  IsOptional,
  IsString,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import type { OpenAiResponseFormatInput, ToolChoiceInput, ToolDeclarationInput } from '@qwen/tools';
import type { HistoryToolCall } from '../../common/history-tool-calls';
import { CompletionFieldsDto } from './sampling-fields.dto';
import { IsMessageContent } from './openai-validators';
import { LARGEST_OUTPUT_LIMIT } from '../../common/output-limit';

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
  /** An assistant message's calls: `{id, type: "function", function: {name, arguments: JSON text}}` (checked by the service). */
  @IsOptional() @IsArray() tool_calls?: HistoryToolCall[] | null;
  /** A tool result's call id (the chat template has no place for it: results are matched by order). */
  @IsOptional() @IsString() tool_call_id?: string | null;
}

export class ChatCompletionRequestDto extends CompletionFieldsDto {
  @IsArray() @ArrayMinSize(1) @ValidateNested({ each: true }) @Type(() => ChatMessageDto) messages!: ChatMessageDto[];
  @IsOptional() @IsInt() @Min(1) @Max(LARGEST_OUTPUT_LIMIT) max_completion_tokens?: number | null;

  /** Function tools; their shape, `tool_choice` and `response_format` are checked by @qwen/tools' planners (400 with the field). */
  @IsOptional() @IsArray() tools?: ToolDeclarationInput[] | null;
  @IsOptional() tool_choice?: ToolChoiceInput;
  @IsOptional() @IsBoolean() parallel_tool_calls?: boolean | null;
  @IsOptional() @IsArray() @ArrayMaxSize(0, { message: "$property: the deprecated 'functions' is not supported: declare them in 'tools'" }) functions?: unknown[] | null;
  @IsOptional() @IsIn(['none', 'auto'], { message: "$property: the deprecated 'function_call' is not supported: use 'tool_choice'" }) function_call?: unknown;
  @IsOptional() @IsObject() response_format?: OpenAiResponseFormatInput | null;
  @IsOptional() @IsIn([false], { message: '$property: log probabilities are not supported' }) logprobs?: boolean | null;
}
