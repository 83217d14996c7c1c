import { Body, Controller, Delete, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { CurrentRequest, RequestContext } from '@qwen/http';
import { ApiKeyGuard } from '../openai/api-key.guard';
import { OpenAiValidationPipe } from '../openai/openai-validation.pipe';
import { ResponseRequestDto } from './dto/response-request.dto';
import { OpenAiResponsesService, responseNotStored } from './openai-responses.service';

/** The OpenAI Responses API, stateless: create; retrieve, list items and delete answer 404. */
@Controller('v1/responses')
@UseGuards(ApiKeyGuard)
export class ResponsesController {
  constructor(private readonly responses: OpenAiResponsesService) {}

  @Post()
  @HttpCode(200)
  create(@Body(OpenAiValidationPipe) body: ResponseRequestDto, @CurrentRequest() request: RequestContext): Promise<void> {
    return this.responses.create(body, request);
  }

  @Get(':id')
  retrieve(@Param('id') id: string): never {
    throw responseNotStored(id);
  }

  @Get(':id/input_items')
  inputItems(@Param('id') id: string): never {
    throw responseNotStored(id);
  }

  @Delete(':id')
  remove(@Param('id') id: string): never {
    throw responseNotStored(id);
  }
}
