import type { FitResult, WorkSteps } from '@qwen/tokenizer-engine';
import { FittingQueue, type FittingWork } from './fitting-queue';
import type { FitReply, LineReply } from './worker-prompt-fitting';

type FittingReply = LineReply | FitReply;

const FITTED: FitResult = { ok: true, prompt: { ids: [1, 2, 3], promptTokens: 3, maxTokens: 10, droppedMessages: 0 } };
const REQUEST = { prompt: 'x', contextWindow: 16 };

describe(FittingQueue.name, () => {
  let replies: FittingReply[];
  let onReply: ((reply: FittingReply) => void) | undefined;
  /** A clock that moves 1 ms each time it is read: a slice ends after a few steps, whatever the machine. */
  let time: number;
  const clock = () => time++;

  beforeEach(() => {
    replies = [];
    onReply = undefined;
    time = 0;
  });

  const queueOf = (work: FittingWork) =>
    new FittingQueue(
      work,
      {
        line: (reply) => {
          replies.push(reply);
          onReply?.(reply);
        },
        fit: (reply) => {
          replies.push(reply);
          onReply?.(reply);
        },
      },
      clock,
    );
  const replyTo = (id: number) =>
    new Promise<FittingReply>((resolve) => {
      const earlier = onReply;
      onReply = (reply) => {
        earlier?.(reply);
        if (reply.id === id) resolve(reply);
      };
    });

  it('answers a line while a long fit is still in progress, then finishes the fit', async () => {
    let fitStarted!: () => void;
    const started = new Promise<void>((resolve) => (fitStarted = resolve));
    let stepsBeforeLine = 0;
    let stepsAfterLine = 0;
    let lineAnswered = false;
    function* longFit(): WorkSteps<FitResult> {
      fitStarted();
      // Goes on until the line has been answered, and then a few steps more.
      while (!lineAnswered || stepsAfterLine < 10) {
        if (lineAnswered) stepsAfterLine++;
        else stepsBeforeLine++;
        yield;
      }
      return FITTED;
    }
    const queue = queueOf({ fitSteps: () => longFit(), encodeLine: (text) => [text.length] });
    const fitted = replyTo(1);
    const line = replyTo(2);
    queue.add({ id: 1, kind: 'fit', request: REQUEST });
    await started;
    queue.add({ id: 2, kind: 'line', text: 'hello' });
    expect(await line).toEqual({ id: 2, ids: [5] });
    lineAnswered = true;
    expect(await fitted).toEqual({ id: 1, result: FITTED });
    expect(replies.map((r) => r.id)).toEqual([2, 1]);
    expect(stepsBeforeLine).toBeGreaterThan(0);
    expect(stepsAfterLine).toBe(10);
  });

  it('takes queued lines before queued fits, and fits in their order', async () => {
    const queue = queueOf({ fitSteps: () => (function* () { yield; return FITTED; })(), encodeLine: () => [7] });
    const last = replyTo(2);
    queue.add({ id: 1, kind: 'fit', request: REQUEST });
    queue.add({ id: 3, kind: 'line', text: 'a' });
    queue.add({ id: 2, kind: 'fit', request: REQUEST });
    queue.add({ id: 4, kind: 'line', text: 'b' });
    await last;
    expect(replies.map((r) => r.id)).toEqual([3, 4, 1, 2]);
  });

  it('answers a fit or a line that fails with its error, and goes on with the next job', async () => {
    const queue = queueOf({
      fitSteps: function* (request) {
        yield;
        if (request.prompt === 'bad') throw new Error('cannot fit');
        return FITTED;
      },
      encodeLine: (text) => {
        if (text === 'bad') throw new Error('cannot encode');
        return [1];
      },
    });
    const last = replyTo(3);
    queue.add({ id: 1, kind: 'fit', request: { ...REQUEST, prompt: 'bad' } });
    queue.add({ id: 2, kind: 'line', text: 'bad' });
    queue.add({ id: 3, kind: 'fit', request: REQUEST });
    queue.add({ id: 4, kind: 'line', text: 'ok' });
    await last;
    expect(replies).toEqual([
      { id: 2, error: 'cannot encode' },
      { id: 4, ids: [1] },
      { id: 1, error: 'cannot fit' },
      { id: 3, result: FITTED },
    ]);
  });
});
