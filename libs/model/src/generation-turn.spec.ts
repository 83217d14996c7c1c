import type { RegisterPromptResponse, TurnProgress, TurnUsage } from '@qwen/tokenizer';
import { Subject, Subscriber } from 'rxjs';
import { FakeRunnerConsole } from '../../../test/doubles/fake-runner-console';
import { flushPromises, ManualClock } from '../../../test/doubles/manual-clock';
import { GenerationTurn, TurnLimits } from './generation-turn';
import { GenerationEvent, GenerationRequest, GenerationTimeoutError, ModelProcessError } from './model.contract';

const limits: TurnLimits = { requestTimeoutMs: 30_000, hangTimeoutMs: 5_000, prefillMsPerToken: 100, prefillTokensPerSecond: 15 };
const registration: RegisterPromptResponse = { handle: 'qh-1', promptTokens: 30, maxTokens: 10, droppedMessages: 0, expiresAt: 120_000 };

describe(GenerationTurn.name, () => {
  let clock: ManualClock;
  let runner: FakeRunnerConsole;
  let progress: Subject<TurnProgress>;
  let settle: (handle: string) => Promise<TurnUsage>;
  let events: GenerationEvent[];
  let errors: unknown[];
  let completed: number;
  let closed: number;

  beforeEach(() => {
    clock = new ManualClock();
    runner = new FakeRunnerConsole();
    progress = new Subject<TurnProgress>();
    settle = async () => ({ completionTokens: 4 });
    events = [];
    errors = [];
    completed = 0;
    closed = 0;
  });

  function startTurn(stop: string[] = [], endDetector?: GenerationRequest['endDetector']): GenerationTurn {
    const subscriber = new Subscriber<GenerationEvent>({
      next: (event) => events.push(event),
      error: (error: unknown) => errors.push(error),
      complete: () => (completed += 1),
    });
    const client = { request: { requestId: 'r1', prompt: 'p', stop, endDetector }, subscriber, subscribedAt: clock.now() };
    const tokenizer = { progress$: progress.asObservable(), settle: (handle: string) => settle(handle) };
    const turn = new GenerationTurn(client, registration, runner as never, tokenizer, clock, limits, () => (closed += 1));
    turn.begin();
    return turn;
  }

  it('types the handle, cuts before a stop string, stops the runner, and ends with one done', async () => {
    const turn = startTurn(['STOP']);
    expect(runner.typed).toEqual(['qh-1']);
    expect(events[0]).toMatchObject({ type: 'start', promptTokens: 30, maxTokens: 10 });
    runner.output.next({ type: 'text', text: 'hello ST' });
    runner.output.next({ type: 'text', text: 'OP more' });
    expect(runner.actions).toEqual(['ctrl-c']);
    runner.output.next({ type: 'prompt' });
    await flushPromises();
    expect(events.slice(1)).toEqual([{ type: 'delta', text: 'hello ' }, expect.objectContaining({ type: 'done', finishReason: 'stop', usage: { promptTokens: 30, completionTokens: 4 } })]);
    expect([completed, closed, turn.outcome]).toEqual([1, 1, 'done']);
    runner.output.next({ type: 'exit', how: 'signal 11' }); // after the turn: none of its business
    expect([errors.length, closed]).toEqual([0, 1]);
  });

  it('cuts the text where the end detector says the answer ended, stops the runner and finishes stop', async () => {
    settle = async () => ({ completionTokens: 10 }); // the runner reached the limit before the Ctrl-C took: still 'stop'
    const closing = () => {
      let seen = '';
      return { push: (delta: string) => ((seen += delta).includes('}') ? delta.indexOf('}') + 1 : null) };
    };
    startTurn(['</x>'], closing);
    expect(events[0]).toMatchObject({ type: 'start', requestedMaxTokens: null, expectedPrefillMs: 2000 });
    runner.output.next({ type: 'text', text: '{"a": ' });
    expect(runner.actions).toEqual([]);
    runner.output.next({ type: 'text', text: '1}\n</' });
    expect(runner.actions).toEqual(['ctrl-c']);
    runner.output.next({ type: 'text', text: 'more text' });
    runner.output.next({ type: 'prompt' });
    await flushPromises();
    const text = events.filter((e) => e.type === 'delta').map((e) => e.text).join('');
    expect(text).toBe('{"a": 1}');
    expect(events.pop()).toMatchObject({ type: 'done', finishReason: 'stop', usage: { promptTokens: 30, completionTokens: 10 } });
  });

  it('reports length when the runner generated max_tokens', async () => {
    settle = async () => ({ completionTokens: 12 });
    startTurn();
    runner.output.next({ type: 'text', text: 'abc' });
    runner.output.next({ type: 'prompt' });
    await flushPromises();
    expect(events.pop()).toMatchObject({ type: 'done', finishReason: 'length', usage: { completionTokens: 10 } });
  });

  it('fails once at the deadline, sends Ctrl-C, and closes only when the runner is back at its prompt', async () => {
    startTurn();
    progress.next({ type: 'turn-start', handle: 'qh-1', promptTokens: 30 });
    for (let i = 0; i < 10; i++) {
      await clock.advance(3_000);
      runner.output.next({ type: 'output' }); // output keeps coming, so it is not hung…
      runner.output.next({ type: 'text', text: 'x' });
    }
    expect(errors).toEqual([expect.any(GenerationTimeoutError)]); // …but 30 s is the limit
    expect(runner.actions).toEqual(['ctrl-c']);
    expect(closed).toBe(0);
    runner.output.next({ type: 'prompt' });
    await flushPromises();
    expect([errors.length, completed, closed]).toEqual([1, 0, 1]);
  });

  it('fails with the exit when the runner dies mid-answer', () => {
    startTurn();
    runner.output.next({ type: 'text', text: 'partial' });
    runner.output.next({ type: 'exit', how: 'signal 11' });
    expect(errors).toEqual([expect.any(ModelProcessError)]);
    expect((errors[0] as Error).message).toContain('exit signal 11');
    expect(closed).toBe(1);
  });

  it('emits nothing more to a client that leaves while the usage is settled', async () => {
    let answer!: (usage: TurnUsage) => void;
    settle = () => new Promise((resolve) => (answer = resolve));
    const turn = startTurn();
    runner.output.next({ type: 'text', text: 'all of it' });
    runner.output.next({ type: 'prompt' });
    turn.cancel();
    answer({ completionTokens: 3 });
    await flushPromises();
    expect(events.map((e) => e.type)).toEqual(['start', 'delta']);
    expect([completed, errors.length, closed, turn.outcome]).toEqual([0, 0, 1, 'cancelled']);
    expect(runner.actions).toEqual([]); // the runner was already at its prompt: no Ctrl-C
  });

  it('keeps a delivered answer when an operator aborts while the usage is settled', async () => {
    let answer!: (usage: TurnUsage) => void;
    settle = () => new Promise((resolve) => (answer = resolve));
    const turn = startTurn();
    runner.output.next({ type: 'text', text: 'all of it' });
    runner.output.next({ type: 'prompt' });
    turn.abort(new Error('reload'));
    answer({ completionTokens: 3 });
    await flushPromises();
    expect(events.pop()).toMatchObject({ type: 'done' });
    expect(errors).toEqual([]);
  });

  it('kills a runner silent past the hang allowance (prefill time included before the first text)', async () => {
    startTurn();
    await clock.advance(5_000 + 30 * 100 - 1);
    expect(runner.actions).toEqual([]);
    await clock.advance(1);
    expect(errors).toEqual([expect.any(ModelProcessError)]);
    expect(runner.actions).toEqual(['kill: the runner stopped responding (no output for 8000 ms)']);
  });

  it('fails at once when the runner is not at its prompt', () => {
    runner.atPrompt = false;
    startTurn();
    expect(events).toEqual([]);
    expect(errors).toEqual([expect.any(ModelProcessError)]);
    expect(closed).toBe(1);
  });

  it('ignores an unknown line once its own line was read', () => {
    startTurn();
    progress.next({ type: 'turn-start', handle: 'qh-1', promptTokens: 30 });
    progress.next({ type: 'unknown-line' });
    expect(errors).toEqual([]);
    expect(runner.actions).toEqual([]);
  });
});
