import { IsBoolean, IsIn, IsOptional } from 'class-validator';
import { IsLegacyPrompt } from './openai-validators';
import { CompletionFieldsDto } from './sampling-fields.dto';

/** Legacy `POST /v1/completions`: a raw prompt, no chat template. */
export class CompletionRequestDto extends CompletionFieldsDto {
  @IsLegacyPrompt() prompt!: string | [string];
  @IsOptional() @IsBoolean() echo?: boolean | null;
  @IsOptional() @IsIn([null, ''], { message: '$property is not supported (no fill-in-the-middle)' }) suffix?: string | null;
  @IsOptional() @IsIn([1], { message: '$property: only best_of=1 is supported' }) best_of?: number | null;
  @IsOptional() @IsIn([0], { message: '$property: log probabilities are not supported' }) logprobs?: number | null;
}
