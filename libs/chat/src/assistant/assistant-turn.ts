import { Inject, Injectable } from '@nestjs/common';
import { AdmissionLimits, GenerationEvent, GenerationRequest, ModelService } from '@qwen/model';
import type { ChatMessage } from '@qwen/tokenizer';
import {
  JsonValueEndDetector,
  ParsedToolCall,
  StructuredOutputValidator,
  ToolCallStreamParser,
  jsonValidateFailedMessage,
  structuredOutputRetryMessage,
  toTemplateTools,
} from '@qwen/tools';
import { Observable, Subscription, defer, filter } from 'rxjs';
import { CHAT_OPTIONS, ChatModuleOptions } from '../chat.options';
import type { AnswerDoneEvent, AnswerEvent, AnswerPlan } from './assistant-events';
import { StructuredOutputError } from './structured-output-error';

/** How the caller delivers the answer. */
export interface AnswerDelivery {
  /**
   * True when text goes to the client as it is produced. A structured answer is then emitted as it comes
   * and NOT retried (its text is already out): an invalid one ends with StructuredOutputError.
   * False: a structured answer's text is emitted only once it validated, so it can be retried.
   */
  streamed: boolean;
  /** Admission limits for the model's queue (a non-streamed answer is refused when it would wait too long). */
  limits?: AdmissionLimits;
}

type ModelDone = Extract<GenerationEvent, { type: 'done' }>;

/**
 * The answer shaper between a dialect and ModelService.generate(): applies an AnswerPlan to the
 * generation (tools in the template, the pre-filled assistant turn that forces a call or opens the JSON
 * value, the stop at `</tool_call>`, the end detector that stops when the JSON value closes, the JSON
 * instruction in the system turn), then turns the model's deltas into content text and tool calls
 * (ToolCallStreamParser, fed the pre-fill first), validates a structured answer
 * (StructuredOutputValidator) and, when it does not validate, asks once more with the error
 * (`structuredOutputRetries`, 0–2). Events the model emits that it does not shape (start, progress)
 * pass through unchanged. Cold, like ModelService.generate(): unsubscribing cancels.
 */
@Injectable()
export class AssistantTurn {
  private readonly retries: number;

  constructor(
    @Inject(ModelService) private readonly model: Pick<ModelService, 'generate'>,
    private readonly validator: StructuredOutputValidator,
    @Inject(CHAT_OPTIONS) options: Pick<ChatModuleOptions, 'structuredOutputRetries'>,
  ) {
    this.retries = options.structuredOutputRetries;
  }

  answer(request: GenerationRequest, plan: AnswerPlan, delivery: AnswerDelivery): Observable<AnswerEvent> {
    return defer(() => {
      if (plan.structured) this.validator.prepare(plan.structured);
      return this.attempt(request, plan, delivery, 1, null);
    });
  }

  private attempt(request: GenerationRequest, plan: AnswerPlan, delivery: AnswerDelivery, attempt: number, previous: ModelDone | null): Observable<AnswerEvent> {
    return new Observable<AnswerEvent>((subscriber) => {
      const shaped = shapeGeneration(request, plan);
      const names = plan.tools?.declaredNames ?? [];
      const parser = names.length > 0 ? new ToolCallStreamParser(names) : null;
      const structured = plan.structured && !plan.tools?.prefill ? plan.structured : null;
      const holdText = structured !== null && !delivery.streamed;
      const calls: ParsedToolCall[] = [];
      let content = '';
      let held = '';
      const subscriptions = new Subscription();

      const emitText = (text: string): void => {
        if (!text) return;
        content += text;
        if (holdText) held += text;
        else subscriber.next({ type: 'text', text });
      };
      const emitStep = (step: { text: string; toolCalls: ParsedToolCall[] }): void => {
        emitText(step.text);
        for (const call of step.toolCalls) {
          subscriber.next({ type: 'tool-call', index: calls.length, call });
          calls.push(call);
        }
      };
      const emitAnswer = (text: string): void => (parser ? emitStep(parser.push(text)) : emitText(text));

      const finish = (done: ModelDone): void => {
        if (parser) emitStep(parser.finish());
        const merged = previous ? mergeDone(previous, done) : done;
        if (structured && calls.length === 0) {
          const check = this.validator.check(structured, content);
          if (!check.valid) {
            if (!delivery.streamed && attempt <= this.retries && done.finishReason !== 'length') {
              const retry: GenerationRequest = {
                ...request,
                messages: [...(request.messages ?? []), { role: 'assistant', content }, { role: 'user', content: structuredOutputRetryMessage(check.error) }],
              };
              // The retry's `start` is not news to the caller (the first one set the headers).
              subscriptions.add(
                this.attempt(retry, plan, delivery, attempt + 1, merged)
                  .pipe(filter((event) => event.type !== 'start'))
                  .subscribe(subscriber),
              );
              return;
            }
            subscriber.error(new StructuredOutputError(jsonValidateFailedMessage(check.error, attempt), structured.param, content));
            return;
          }
        }
        if (held) subscriber.next({ type: 'text', text: held });
        const event: AnswerDoneEvent = {
          ...merged,
          type: 'done',
          finishReason: calls.length > 0 ? 'tool_calls' : merged.finishReason,
          toolCalls: calls,
          attempts: attempt,
        };
        subscriber.next(event);
        subscriber.complete();
      };

      subscriptions.add(
        this.model.generate(shaped, delivery.limits).subscribe({
          next: (event) => {
            switch (event.type) {
              case 'start':
                subscriber.next(event);
                if (shaped.assistantPrefill) emitAnswer(shaped.assistantPrefill);
                break;
              case 'delta':
                emitAnswer(event.text);
                break;
              case 'done':
                finish(event);
                break;
              default:
                subscriber.next(event);
            }
          },
          error: (error: unknown) => subscriber.error(error),
        }),
      );
      return subscriptions;
    });
  }
}

/**
 * The generation a plan asks for. A forced call (tool_choice `required` or a named function) wins over
 * a JSON format: its pre-fill opens the call. Tools offered with `auto` and a JSON format: the model may
 * call or answer JSON, so nothing is pre-filled and the JSON is only validated.
 */
export function shapeGeneration(request: GenerationRequest, plan: AnswerPlan): GenerationRequest {
  const { tools, structured } = plan;
  const shaped: GenerationRequest = { ...request };
  if (tools) {
    if (tools.offeredTools.length > 0 && request.messages) shaped.tools = toTemplateTools(tools.offeredTools);
    if (tools.prefill) shaped.assistantPrefill = tools.prefill;
    if (tools.stopSequences.length > 0) shaped.stop = [...(request.stop ?? []), ...tools.stopSequences];
  }
  if (structured && !tools?.prefill) {
    if (request.messages) shaped.messages = withInstruction(request.messages, structured.instruction);
    const callsPossible = (tools?.offeredTools.length ?? 0) > 0;
    if (!callsPossible) {
      if (structured.prefill && request.messages) shaped.assistantPrefill = structured.prefill;
      shaped.endDetector = endOfJsonValue(shaped.assistantPrefill ?? '');
    }
  }
  return shaped;
}

/** The system turn carries what to answer: appended to the first system message, or a new one first. */
function withInstruction(messages: readonly ChatMessage[], instruction: string): ChatMessage[] {
  const [first, ...rest] = messages;
  if (first?.role === 'system' || first?.role === 'developer') {
    return [{ ...first, content: first.content ? `${first.content}\n\n${instruction}` : instruction }, ...rest];
  }
  return [{ role: 'system', content: instruction }, ...messages];
}

/** A fresh detector per turn, already fed the pre-filled opening. */
function endOfJsonValue(prefill: string): () => JsonValueEndDetector {
  return () => {
    const detector = new JsonValueEndDetector();
    detector.push(prefill);
    return detector;
  };
}

/** The done event of a retried answer: both generations' tokens and time. */
function mergeDone(previous: ModelDone, last: ModelDone): ModelDone {
  return {
    ...last,
    usage: {
      promptTokens: previous.usage.promptTokens + last.usage.promptTokens,
      completionTokens: previous.usage.completionTokens + last.usage.completionTokens,
    },
    timings: { ...last.timings, queuedMs: previous.timings.queuedMs + last.timings.queuedMs, totalMs: previous.timings.totalMs + last.timings.totalMs },
  };
}
