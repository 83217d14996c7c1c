import { Inject, Injectable } from '@nestjs/common';
import { RequestContext } from '@qwen/http';
import { ModelService } from '@qwen/model';
import type { ChatMessage } from '@qwen/tokenizer';
import { planOpenAiResponseFormat, planOpenAiTools, requestedOpenAiLimit } from '@qwen/tools';
import { AnswerPlan, PLAIN_ANSWER } from '../assistant/assistant-events';
import { historyToolCalls } from '../common/history-tool-calls';
import { stopList } from '../common/stop-list';
import { classifyChatFailure } from '../pipeline/chat-failure';
import { ChatGenerationRequest, ChatPipeline, ChatStreamWriter } from '../pipeline/chat-pipeline';
import { ModelCatalog } from '../pipeline/model-catalog';
import { ChatCompletionRequestDto, ChatMessageDto } from './dto/chat-completion.dto';
import { CompletionRequestDto } from './dto/completion.dto';
import { openAiErrorOf } from './openai-error';
import { OpenAiResponseHeader, chatCompletion, systemFingerprint, textCompletion } from './openai-responses';
import { ChatCompletionSseWriter, TextCompletionSseWriter } from './openai-stream-writers';

/** OpenAI's default output limit of the legacy completions endpoint when max_tokens is absent. */
const LEGACY_DEFAULT_MAX_TOKENS = 16;

/** Serves chat and legacy completions through the ChatPipeline, in OpenAI's shapes. */
@Injectable()
export class OpenAiCompletionsService {
  constructor(
    private readonly pipeline: ChatPipeline,
    private readonly catalog: ModelCatalog,
    @Inject(ModelService) private readonly model: Pick<ModelService, 'snapshot'>,
  ) {}

  async chat(dto: ChatCompletionRequestDto, request: RequestContext): Promise<void> {
    const header = this.header(request, 'chatcmpl', dto.model);
    const plan: AnswerPlan = { tools: planOpenAiTools(dto), structured: planOpenAiResponseFormat(dto.response_format) };
    const generation: ChatGenerationRequest = {
      messages: dto.messages.map(toChatMessage),
      maxTokens: requestedOpenAiLimit(dto) ?? undefined,
      stop: stopList(dto.stop),
    };
    if (dto.stream) {
      await this.stream(request, generation, new ChatCompletionSseWriter(header, dto.stream_options?.include_usage === true), 'messages', plan);
      return;
    }
    const { text, toolCalls, done } = await this.collect(request, generation, 'messages', plan);
    request.res.status(200).json(chatCompletion(header, text, done, toolCalls));
  }

  async complete(dto: CompletionRequestDto, request: RequestContext): Promise<void> {
    const header = this.header(request, 'cmpl', dto.model);
    const prompt = typeof dto.prompt === 'string' ? dto.prompt : dto.prompt[0];
    const generation: ChatGenerationRequest = {
      prompt,
      maxTokens: dto.max_tokens ?? LEGACY_DEFAULT_MAX_TOKENS,
      stop: stopList(dto.stop),
    };
    const echo = dto.echo ? prompt : '';
    if (dto.stream) {
      await this.stream(request, generation, new TextCompletionSseWriter(header, dto.stream_options?.include_usage === true, echo), 'prompt');
      return;
    }
    const { text, done } = await this.collect(request, generation, 'prompt');
    request.res.status(200).json(textCompletion(header, echo + text, done));
  }

  private header(request: RequestContext, prefix: string, requested: string): OpenAiResponseHeader {
    const model = this.catalog.resolve(requested);
    const snapshot = this.model.snapshot();
    return {
      id: `${prefix}-${request.requestId}`,
      created: Math.floor(request.openedAt / 1000),
      model,
      system_fingerprint: systemFingerprint(model, snapshot.maxTokenLen, snapshot.sampling),
    };
  }

  private collect(request: RequestContext, generation: ChatGenerationRequest, promptParam: string, plan: AnswerPlan = PLAIN_ANSWER) {
    return this.pipeline.collect(request, generation, plan).catch((error: unknown) => {
      throw this.withParam(error, promptParam);
    });
  }

  private stream(
    request: RequestContext,
    generation: ChatGenerationRequest,
    writer: ChatStreamWriter,
    promptParam: string,
    plan: AnswerPlan = PLAIN_ANSWER,
  ): Promise<void> {
    return this.pipeline.stream(request, generation, writer, plan).catch((error: unknown) => {
      throw this.withParam(error, promptParam);
    });
  }

  /** A window overflow names the field that carried the prompt. */
  private withParam(error: unknown, promptParam: string): unknown {
    const failure = classifyChatFailure(error);
    return failure?.kind === 'context-length' ? openAiErrorOf(failure, promptParam) : error;
  }
}

/**
 * OpenAI message → the tokenizer's ChatMessage: text parts joined, `developer` treated as `system`, an
 * assistant's `tool_calls` as calls with object arguments (a tool result's `tool_call_id` has no place
 * in the template: results are matched to calls by order, as the model was trained).
 */
export function toChatMessage(message: ChatMessageDto, index: number): ChatMessage {
  const content = message.content === null || message.content === undefined
    ? ''
    : typeof message.content === 'string'
      ? message.content
      : message.content.map((part) => part.text).join('\n');
  const out: ChatMessage = { role: message.role === 'developer' ? 'system' : message.role, content };
  if (message.name) out.name = message.name;
  if (message.role === 'assistant' && message.tool_calls && message.tool_calls.length > 0) {
    out.toolCalls = historyToolCalls(message.tool_calls, `messages[${index}].tool_calls`);
  }
  return out;
}
