import {
  OutputFunctionCall,
  OutputItem,
  OutputMessage,
  ResponseEcho,
  ResponseError,
  ResponseObject,
  ResponseOutcome,
  ResponseStatus,
  ResponseToolCall,
  ResponseUsage,
  outputText,
  responseItemId,
  responseObject,
  responseStatusOf,
  responseUsage,
} from './response-object';

/** One streaming event of the Responses API, before its `sequence_number`. */
export type ResponseEvent = { type: string } & Record<string, unknown>;

/**
 * Builds ONE response from a generation's text and tool calls, in order, and says which streaming
 * events each step makes (the official sequence: `response.created`, `response.in_progress`, per item
 * `response.output_item.added` … `response.output_item.done`, text through `response.content_part.*` and
 * `response.output_text.*`, calls through `response.function_call_arguments.*`, then `response.completed`,
 * `response.incomplete` or `response.failed`). A non-streamed answer uses the same steps and keeps only
 * `response()`, so both paths give the same object.
 */
export class ResponseAssembly {
  private readonly output: OutputItem[] = [];
  private openMessage: OutputMessage | null = null;
  private status: ResponseStatus = 'in_progress';
  private usage: ResponseUsage | null = null;
  private error: ResponseError | null = null;

  constructor(private readonly echo: ResponseEcho) {}

  /** The response as it stands (a copy: later steps do not change it). */
  response(): ResponseObject {
    return structuredClone(responseObject(this.echo, { status: this.status, output: this.output, usage: this.usage, error: this.error }));
  }

  start(): ResponseEvent[] {
    return [
      { type: 'response.created', response: this.response() },
      { type: 'response.in_progress', response: this.response() },
    ];
  }

  /** A piece of the answer's text: opens the message item on the first piece. */
  text(delta: string): ResponseEvent[] {
    if (delta === '') return [];
    const events = this.openMessage ? [] : this.openMessageItem();
    const message = this.openMessage as OutputMessage;
    message.content[0].text += delta;
    events.push({ type: 'response.output_text.delta', ...this.partRef(message), delta, logprobs: [] });
    return events;
  }

  /** A complete function call: closes the message item before it, adds a function_call item. */
  toolCall(call: ResponseToolCall): ResponseEvent[] {
    const events = this.closeMessageItem('completed');
    const item: OutputFunctionCall = {
      id: responseItemId('fc'),
      type: 'function_call',
      status: 'in_progress',
      call_id: call.id,
      name: call.name,
      arguments: '',
    };
    const outputIndex = this.output.push(item) - 1;
    events.push({ type: 'response.output_item.added', output_index: outputIndex, item: { ...item } });
    item.arguments = call.argumentsJson;
    events.push({ type: 'response.function_call_arguments.delta', item_id: item.id, output_index: outputIndex, delta: call.argumentsJson });
    events.push({ type: 'response.function_call_arguments.done', item_id: item.id, output_index: outputIndex, name: item.name, arguments: item.arguments });
    item.status = 'completed';
    events.push({ type: 'response.output_item.done', output_index: outputIndex, item: { ...item } });
    return events;
  }

  /** The end: closes the message (an empty one when nothing was output), then `response.completed` or `response.incomplete`. */
  done(outcome: ResponseOutcome): ResponseEvent[] {
    const status = responseStatusOf(outcome);
    const events = this.output.length === 0 && !this.openMessage ? this.openMessageItem() : [];
    events.push(...this.closeMessageItem(status === 'incomplete' ? 'incomplete' : 'completed'));
    this.status = status;
    this.usage = responseUsage(outcome.usage);
    events.push({ type: status === 'incomplete' ? 'response.incomplete' : 'response.completed', response: this.response() });
    return events;
  }

  /** A failure after the response began: `response.failed` carrying the error (code and message of OpenAI's error body). */
  failed(error: ResponseError): ResponseEvent[] {
    const events = this.closeMessageItem('incomplete');
    this.status = 'failed';
    this.error = error;
    events.push({ type: 'response.failed', response: this.response() });
    return events;
  }

  private openMessageItem(): ResponseEvent[] {
    const message: OutputMessage = { id: responseItemId('msg'), type: 'message', status: 'in_progress', role: 'assistant', content: [] };
    const outputIndex = this.output.push(message) - 1;
    this.openMessage = message;
    const events: ResponseEvent[] = [{ type: 'response.output_item.added', output_index: outputIndex, item: structuredClone(message) }];
    message.content.push(outputText(''));
    events.push({ type: 'response.content_part.added', ...this.partRef(message), part: outputText('') });
    return events;
  }

  private closeMessageItem(status: 'completed' | 'incomplete'): ResponseEvent[] {
    const message = this.openMessage;
    if (!message) return [];
    this.openMessage = null;
    const text = message.content[0].text;
    message.status = status;
    const ref = this.partRef(message);
    return [
      { type: 'response.output_text.done', ...ref, text, logprobs: [] },
      { type: 'response.content_part.done', ...ref, part: outputText(text) },
      { type: 'response.output_item.done', output_index: ref.output_index, item: structuredClone(message) },
    ];
  }

  private partRef(message: OutputMessage): { item_id: string; output_index: number; content_index: number } {
    return { item_id: message.id, output_index: this.output.indexOf(message), content_index: 0 };
  }
}
