import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { CurrentRequest, RequestContext } from '@qwen/http';
import { ApiKeyGuard } from './api-key.guard';
import { ChatCompletionRequestDto } from './dto/chat-completion.dto';
import { CompletionRequestDto } from './dto/completion.dto';
import { OpenAiCompletionsService } from './openai-completions.service';
import { OpenAiValidationPipe } from './openai-validation.pipe';

@Controller('v1')
@UseGuards(ApiKeyGuard)
export class ChatCompletionsController {
  constructor(private readonly completions: OpenAiCompletionsService) {}

  @Post('chat/completions')
  @HttpCode(200)
  chat(@Body(OpenAiValidationPipe) body: ChatCompletionRequestDto, @CurrentRequest() request: RequestContext): Promise<void> {
    return this.completions.chat(body, request);
  }

  /** Legacy completions: a raw prompt, no chat template. */
  @Post('completions')
  @HttpCode(200)
  complete(@Body(OpenAiValidationPipe) body: CompletionRequestDto, @CurrentRequest() request: RequestContext): Promise<void> {
    return this.completions.complete(body, request);
  }
}
