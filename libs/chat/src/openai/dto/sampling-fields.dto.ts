import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsNotEmpty, IsNumber, IsObject, IsOptional, IsString, Max, Min, ValidateNested } from 'class-validator';
import { IsStopSequences } from './openai-validators';
import { LARGEST_OUTPUT_LIMIT } from '../../common/output-limit';

export class StreamOptionsDto {
  @IsOptional() @IsBoolean() include_usage?: boolean | null;
}

/**
 * The fields chat and legacy completions share, range-checked like OpenAI. The sampling fields
 * (temperature, top_p, top_k, seed, penalties) are accepted but the runner samples with the settings
 * it loaded at start-up: the response header `X-Qwen-Sampling` says which.
 */
export class CompletionFieldsDto {
  @IsString() @IsNotEmpty() model!: string;

  @IsOptional() @IsInt() @Min(1) @Max(LARGEST_OUTPUT_LIMIT) max_tokens?: number | null;
  @IsOptional() @IsStopSequences() stop?: string | string[] | null;
  @IsOptional() @IsBoolean() stream?: boolean | null;
  @IsOptional() @IsObject() @ValidateNested() @Type(() => StreamOptionsDto) stream_options?: StreamOptionsDto | null;

  @IsOptional() @IsNumber() @Min(0) @Max(2) temperature?: number | null;
  @IsOptional() @IsNumber() @Min(0) @Max(1) top_p?: number | null;
  @IsOptional() @IsInt() @Min(0) top_k?: number | null;
  @IsOptional() @IsInt() @IsIn([1], { message: '$property: only n=1 is supported (one runner, one answer per request)' }) n?: number | null;
  @IsOptional() @IsInt() seed?: number | null;
  @IsOptional() @IsNumber() @Min(-2) @Max(2) presence_penalty?: number | null;
  @IsOptional() @IsNumber() @Min(-2) @Max(2) frequency_penalty?: number | null;
  @IsOptional() @IsString() user?: string | null;
}
