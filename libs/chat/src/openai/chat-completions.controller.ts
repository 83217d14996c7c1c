import { Body, Controller, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
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
  chat(@Body(OpenAiValidationPipe) body: ChatCompletionRequestDto, @Req() req: Request, @Res() res: Response): Promise<void> {
    return this.completions.chat(body, req, res);
  }

  /** Legacy completions: a raw prompt, no chat template. */
  @Post('completions')
  @HttpCode(200)
  complete(@Body(OpenAiValidationPipe) body: CompletionRequestDto, @Req() req: Request, @Res() res: Response): Promise<void> {
    return this.completions.complete(body, req, res);
  }
}
