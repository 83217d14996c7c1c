import { Injectable } from '@nestjs/common';
import { RequestContext } from '@qwen/http';
import { planOpenAiResponseFormat, planOpenAiTools } from '@qwen/tools';
import type { AnswerPlan } from '../assistant/assistant-events';
import { OpenAiError, openAiErrorOf } from '../openai/openai-error';
import { classifyChatFailure } from '../pipeline/chat-failure';
import { ChatGenerationRequest, ChatPipeline } from '../pipeline/chat-pipeline';
import { ModelCatalog } from '../pipeline/model-catalog';
import { ResponseRequestDto } from './dto/response-request.dto';
import { ResponseAssembly } from './response-assembly';
import { responseInputMessages } from './response-input';
import { ResponseEcho, responseItemId } from './response-object';
import { ResponseSseWriter } from './response-sse.writer';

/** What a client that asks for a stored response or item is told. */
const STATELESS = 'this server is stateless: it keeps no responses (every request is handled as store=false)';

/**
 * Serves `POST /v1/responses` through the ChatPipeline (same queue, cancellation, headers, log line
 * and metrics as chat): the request's items become the conversation, its tools and `text.format`
 * the answer plan, and the shaped answer becomes ONE response object (ResponseAssembly), returned
 * whole or streamed as the official events.
 */
@Injectable()
export class OpenAiResponsesService {
  constructor(
    private readonly pipeline: ChatPipeline,
    private readonly catalog: ModelCatalog,
  ) {}

  async create(dto: ResponseRequestDto, request: RequestContext): Promise<void> {
    refuseStoredState(dto);
    const plan: AnswerPlan = {
      tools: planOpenAiTools({ tools: dto.tools, tool_choice: dto.tool_choice, parallel_tool_calls: dto.parallel_tool_calls }),
      structured: planOpenAiResponseFormat(dto.text?.format, 'text.format'),
    };
    const echo = this.echo(dto, request);
    const generation: ChatGenerationRequest = {
      messages: responseInputMessages(dto.instructions, dto.input),
      maxTokens: dto.max_output_tokens ?? undefined,
    };
    try {
      if (dto.stream) {
        await this.pipeline.stream(request, generation, new ResponseSseWriter(echo), plan);
        return;
      }
      const { text, toolCalls, done } = await this.pipeline.collect(request, generation, plan);
      const assembly = new ResponseAssembly(echo);
      assembly.text(text);
      for (const call of toolCalls) assembly.toolCall(call);
      assembly.done(done);
      request.res.status(200).json(assembly.response());
    } catch (error) {
      // A window overflow names the field that carried the prompt.
      const failure = classifyChatFailure(error);
      throw failure?.kind === 'context-length' ? openAiErrorOf(failure, 'input') : error;
    }
  }

  private echo(dto: ResponseRequestDto, request: RequestContext): ResponseEcho {
    return {
      id: responseItemId('resp'),
      created_at: Math.floor(request.openedAt / 1000),
      model: this.catalog.resolve(dto.model),
      instructions: dto.instructions ?? null,
      max_output_tokens: dto.max_output_tokens ?? null,
      metadata: dto.metadata ?? {},
      parallel_tool_calls: dto.parallel_tool_calls ?? true,
      temperature: dto.temperature ?? null,
      top_p: dto.top_p ?? null,
      text: { format: dto.text?.format ?? { type: 'text' } },
      tool_choice: dto.tool_choice ?? 'auto',
      tools: dto.tools ?? [],
      user: dto.user ?? null,
    };
  }
}

/** `previous_response_id` and `conversation` name state this server does not keep: a 400 that says so. */
function refuseStoredState(dto: ResponseRequestDto): void {
  if (dto.previous_response_id) {
    throw OpenAiError.invalidRequest(
      `Previous response with id '${dto.previous_response_id}' not found: ${STATELESS}. Send the whole conversation in 'input' instead.`,
      'previous_response_id',
      'previous_response_not_found',
    );
  }
  if (dto.conversation !== undefined && dto.conversation !== null) {
    throw OpenAiError.invalidRequest(`Conversations are not supported: ${STATELESS}. Send the whole conversation in 'input' instead.`, 'conversation');
  }
}

/** The 404 for any stored response or its items. */
export function responseNotStored(id: string): OpenAiError {
  return new OpenAiError(404, `No response with id '${id}': ${STATELESS}.`, 'invalid_request_error', 'response_not_found', 'response_id');
}
