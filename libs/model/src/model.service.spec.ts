import type { ModelConfig } from '@qwen/config';
import type { RegisterPromptRequest, TokenizerBridge, TurnProgress, TurnUsage } from '@qwen/tokenizer';
import { lastValueFrom, Subject, toArray } from 'rxjs';
import { FakeTokenizerBridge } from '../../../test/doubles/fake-tokenizer-bridge';
import { FakeRunner, FakeRunnerProcess } from '../../../test/doubles/fake-runner';
import { BYTE_BY_BYTE, WHOLE, decodePieces, randomCutting, readCapture, segmentsAtPrompts } from '../../../test/fixtures/captures/capture-replay';
import { flushPromises as flush, ManualClock } from '../../../test/doubles/manual-clock';
import { deviceDeadBurst, logRecord, startupStream, turnStream } from '../../../test/fixtures/runner-output';
import { GenerationEvent, GenerationTimeoutError, ModelProcessError, ModelUnavailableError, QueueFullError, QueueWaitTooLongError } from './model.contract';
import { ModelModuleOptions } from './model.options';
import { ModelService } from './model.service';
import { PromptRegistrar } from './prompt-registrar';
import type { RunnerPidFile } from './runner-pid-file';
import type { RunnerProcess } from './runner-process';
import { RunnerSupervisor } from './runner-supervisor';

const modelConfig: ModelConfig = {
  id: 'qwen2.5',
  aliases: [],
  acceptAnyModelName: true,
  runnerBinary: 'main_axcl_x86',
  loadTimeoutMs: 60000,
  queueMaxLength: 4,
  queueMaxWaitMs: 60000,
  requestTimeoutMs: 30000,
  hangTimeoutMs: 5000,
  prefillMsPerToken: 100,
  answerReserveTokens: 16,
  promptBudgetTokens: 0,
  progressIntervalMs: 5000,
  assumedTokensPerSecond: 10,
  nonStreamedMaxWaitMs: 60000,
  stopGraceMs: 1000,
  restartInitialDelayMs: 1000,
  restartMaxDelayMs: 8000,
  maxConsecutiveFailures: 4,
  logModelText: true,
};

describe(ModelService.name, () => {
  let clock: ManualClock;
  let runners: FakeRunner[];
  let service: ModelService;
  let events: Subject<TurnProgress>;
  let registered: RegisterPromptRequest[];

  let tokenizer: FakeTokenizerBridge;

  beforeEach(() => {
    clock = new ManualClock();
    tokenizer = new FakeTokenizerBridge(() => clock.now());
    registered = tokenizer.registered;
    events = tokenizer.progress;
    const runnerProcess = new FakeRunnerProcess();
    runners = runnerProcess.runners;
    const pidFile = { stopStale: async () => null, write: async () => undefined, remove: async () => undefined } as unknown as RunnerPidFile;
    const options: ModelModuleOptions = {
      model: { ...modelConfig },
      paths: { modelDir: '/model', logDir: '/logs', runDir: '/run' },
      tokenizer: { host: '127.0.0.1', port: 12345 },
    };
    const supervisor = new RunnerSupervisor(options, runnerProcess as unknown as RunnerProcess, pidFile, tokenizer as unknown as TokenizerBridge, clock);
    service = new ModelService(options, supervisor, new PromptRegistrar(tokenizer as unknown as TokenizerBridge, clock), tokenizer as unknown as TokenizerBridge, clock);
  });

  async function boot(): Promise<FakeRunner> {
    service.onApplicationBootstrap();
    await flush();
    const runner = runners[runners.length - 1];
    runner.print(startupStream());
    await flush();
    return runner;
  }

  const ask = (content: string) => service.generate({ requestId: content, messages: [{ role: 'user', content }] });

  it('loads once, types only the handle, and reports exact usage from the turn report', async () => {
    const runner = await boot();
    expect(service.snapshot()).toMatchObject({ state: 'ready', maxTokenLen: 1024, loads: 1 });
    const result = lastValueFrom(ask('hello\nworld').pipe(toArray()));
    await flush();
    expect(runner.written).toEqual(['qh-1\n']);
    expect(registered[0]).toMatchObject({ contextWindow: 1024, messages: [{ role: 'user', content: 'hello\nworld' }] });
    runner.print(turnStream('hi there'));
    const events: GenerationEvent[] = await result;
    expect(events.map((e) => e.type)).toEqual(['start', 'delta', 'done']);
    expect(events[2]).toMatchObject({ finishReason: 'stop', usage: { promptTokens: 30, completionTokens: 3 }, runnerTokensPerSecond: 13.28 });
    expect(service.snapshot()).toMatchObject({ state: 'ready', queue: { length: 0, inFlight: 0 } });
  });

  it('sends Ctrl-C when the tokenizer reports the token limit, and reports length', async () => {
    const runner = await boot();
    const result = lastValueFrom(service.generate({ requestId: 'r', messages: [{ role: 'user', content: 'x' }], maxTokens: 3 }).pipe(toArray()));
    await flush();
    runner.print('abc');
    events.next({ type: 'tokens', handle: 'qh-1', generated: 3, limitReached: true });
    expect(runner.written).toEqual(['qh-1\n', '\x03']);
    runner.print(turnStream(''));
    const done = (await result).pop();
    expect(done).toMatchObject({ type: 'done', finishReason: 'length', usage: { completionTokens: 3 } });
  });

  it('cancels a request that leaves on its start event without losing the Ctrl-C or the typed line', async () => {
    const runner = await boot();
    const subscription = ask('bye').subscribe({ next: (e) => e.type === 'start' && subscription.unsubscribe() });
    await flush();
    // The line is typed, but Ctrl-C now would make the terminal discard it unread: not yet.
    expect(runner.written).toEqual(['qh-1\n']);
    events.next({ type: 'turn-start', handle: 'qh-1', promptTokens: 30, printedTextReported: false });
    expect(runner.written).toEqual(['qh-1\n', '\x03']);
    // A Ctrl-C during the prompt may not count: once more when generation shows, then never again.
    runner.print('a');
    runner.print('b');
    expect(runner.written).toEqual(['qh-1\n', '\x03', '\x03']);
    runner.print(turnStream(''));
    await flush();
    expect(service.snapshot()).toMatchObject({ state: 'ready', queue: { inFlight: 0 } });
    const next = lastValueFrom(ask('next').pipe(toArray()));
    await flush();
    expect(runner.written[3]).toBe('qh-2\n');
    runner.print(turnStream('next'));
    expect((await next).pop()).toMatchObject({ type: 'done', finishReason: 'stop' });
  });

  it('restarts a crashed runner with doubling back-off and fails only the request in flight', async () => {
    let runner = await boot();
    const failed = lastValueFrom(ask('boom'));
    await flush();
    runner.exit(0, 11);
    await expect(failed).rejects.toBeInstanceOf(ModelProcessError);
    expect(service.snapshot()).toMatchObject({ state: 'restarting', restarts: 1 });
    expect(clock.pendingDelays()).toEqual([1000]);
    // The next runner dies while loading, twice: each failed start doubles the delay.
    await clock.advance(1000);
    runners[1].exit(255);
    await flush();
    expect(clock.pendingDelays()).toEqual([1000]);
    await clock.advance(1000);
    runners[2].exit(255);
    await flush();
    expect(clock.pendingDelays()).toEqual([2000]);
    await clock.advance(2000);
    runner = runners[3];
    runner.print(startupStream());
    await flush();
    expect(service.snapshot()).toMatchObject({ state: 'ready', consecutiveFailures: 0, loads: 4 });
  });

  it('stops restarting after the configured number of failed starts', async () => {
    service.onApplicationBootstrap();
    await flush();
    for (let i = 0; i < 4; i++) {
      runners[i].print('\x1b[1;30;31m[E][                            Init][ 178]: init axmodel(x) failed\x1b[0m\n');
      runners[i].exit(255);
      await flush();
      await clock.advance(10000);
    }
    expect(runners).toHaveLength(4);
    expect(service.snapshot()).toMatchObject({ state: 'failed', consecutiveFailures: 4 });
    expect(service.snapshot().outputTail.join('\n')).toContain('init axmodel(x) failed');
    expect(clock.pendingDelays()).toEqual([]);
    await expect(lastValueFrom(ask('hello'))).rejects.toBeInstanceOf(ModelUnavailableError);
  });

  it('declares the device dead after the burst and silence: no restart', async () => {
    const runner = await boot();
    const failed = lastValueFrom(ask('hello'));
    await flush();
    runner.print('partial answer ' + deviceDeadBurst(5));
    await clock.advance(3000);
    await expect(failed).rejects.toThrow(/NPU device died/);
    expect(runner.signals).toContain('SIGKILL');
    expect(service.snapshot()).toMatchObject({ state: 'failed', deviceDead: true });
    expect(runners).toHaveLength(1);
  });

  it('keeps model text that merely imitates the device-dead line when the turn ends normally', async () => {
    const runner = await boot();
    const result = lastValueFrom(ask('hello').pipe(toArray()));
    await flush();
    runner.print('[2025-11-09 08:46:00.029][10994][W][device manager][listen][292]: device 1 is dead\n');
    runner.print(turnStream('still text'));
    const events = await result;
    expect(events.pop()).toMatchObject({ type: 'done', finishReason: 'stop' });
    expect(service.snapshot()).toMatchObject({ state: 'ready', deviceDead: false });
  });

  it('fails a generation that runs past the request deadline and interrupts it', async () => {
    const runner = await boot();
    const failed = lastValueFrom(ask('slow'));
    await flush();
    runner.print('some');
    for (let i = 0; i < 10; i++) {
      await clock.advance(3000); // output keeps coming, so it is not hung…
      runner.print(' more');
    }
    await expect(failed).rejects.toBeInstanceOf(GenerationTimeoutError); // …but 30 s is the limit
    expect(runner.written).toEqual(['qh-1\n', '\x03']);
  });

  it('allows a long prompt its prefill time before calling a silent runner hung', async () => {
    const runner = await boot();
    const failed = lastValueFrom(ask('hello'));
    await flush();
    await clock.advance(5000 + 30 * 100 - 1); // hang timeout + 30 prompt tokens x 100 ms
    expect(runner.signals).toEqual([]);
    await clock.advance(1);
    await expect(failed).rejects.toThrow(/stopped responding/);
    expect(runner.signals).toEqual(['SIGKILL']);
  });

  it('keeps a delivered answer, and the crash streak, when the runner exits while the usage is settled', async () => {
    const runner = await boot();
    let settle!: (usage: TurnUsage) => void;
    tokenizer.settleBehaviour = () => new Promise((resolve) => (settle = resolve));
    const result = lastValueFrom(ask('hello').pipe(toArray()));
    await flush();
    runner.print(turnStream('hi there')); // the whole answer, and the runner is back at ">> "
    await flush();
    runner.exit(0, 11); // …then it dies while the turn's usage is still being asked for
    await flush();
    expect(service.snapshot()).toMatchObject({ state: 'restarting', restarts: 1 });
    expect(clock.pendingDelays()).toEqual([1000]);
    settle({ completionTokens: 3 });
    const events = await result;
    expect(events.map((e) => e.type)).toEqual(['start', 'delta', 'done']);
    expect(events[1]).toEqual({ type: 'delta', text: 'hi there' });
    expect(events[2]).toMatchObject({ finishReason: 'stop', usage: { promptTokens: 30, completionTokens: 3 } });
    // The streak that exit raised still stands: the next crash waits twice as long.
    await clock.advance(1000);
    runners[1].print(startupStream());
    await flush();
    runners[1].exit(0, 11);
    await flush();
    expect(clock.pendingDelays()).toEqual([2000]);
  });

  it('keeps the waiting requests through a crash and runs them on the restarted runner', async () => {
    const runner = await boot();
    const failed = lastValueFrom(ask('a'));
    const waiting = lastValueFrom(ask('b').pipe(toArray()));
    await flush();
    runner.exit(0, 11);
    await expect(failed).rejects.toBeInstanceOf(ModelProcessError);
    await flush();
    expect(service.snapshot()).toMatchObject({ state: 'restarting', queue: { length: 1, inFlight: 0 } });
    await clock.advance(1000);
    runners[1].print(startupStream());
    await flush();
    expect(runners[1].written).toEqual(['qh-2\n']);
    runners[1].print(turnStream('b'));
    expect((await waiting).pop()).toMatchObject({ type: 'done', finishReason: 'stop' });
  });

  describe('progress of waiting requests', () => {
    // 10 tokens/s assumed until a footer measured the runner; 100 answer tokens assumed; 30 prompt tokens each.
    const progress = (e: GenerationEvent) => e.type === 'progress';

    it('tells a queued request its position and ETA when accepted and on the interval, then at once when its prompt is fed', async () => {
      const runner = await boot();
      const first = lastValueFrom(ask('a').pipe(toArray()));
      const second = lastValueFrom(ask('b').pipe(toArray()));
      const seen: GenerationEvent[] = [];
      const watcher = service.generate({ requestId: 'c', messages: [{ role: 'user', content: 'c' }] }).subscribe({ next: (e) => seen.push(e) });
      await flush();
      // 'a' on the runner: 30 prompt + 100 answer tokens at 10/s = 13 s; 'b' then needs 3 s for its prompt.
      expect(seen).toEqual([{ type: 'progress', phase: 'queued', position: 2, promptTokens: 30, fedEstimate: null, etaMs: 13_000 + 13_000 + 3_000 }]);
      await clock.advance(5_000);
      // 50 tokens' worth of time fed 'a''s prompt (never counted whole before text): 1 + 100 tokens left.
      expect(seen.at(-1)).toEqual({ type: 'progress', phase: 'queued', position: 2, promptTokens: 30, fedEstimate: null, etaMs: 10_100 + 13_000 + 3_000 });
      watcher.unsubscribe();
      await flush();
      runner.print(turnStream('a'));
      const a = await first;
      // 'a' never waited: it heard of its prefill on the interval only.
      expect(a.filter(progress)).toEqual([{ type: 'progress', phase: 'prefill', position: null, promptTokens: 30, fedEstimate: 29, etaMs: 100 }]);
      expect(a.map((e) => e.type)).toEqual(['start', 'progress', 'delta', 'done']);
      await flush();
      runner.print('b');
      await clock.advance(5_000); // generating: nothing more to report
      runner.print(turnStream(''));
      const b = await second;
      expect(b.map((e) => e.type)).toEqual(['progress', 'progress', 'start', 'progress', 'delta', 'done']);
      expect(b[0]).toMatchObject({ phase: 'queued', position: 1 });
      // Its prompt starts to be fed: told at once, at the rate the runner's footer measured (13.28 tokens/s).
      expect(b[3]).toEqual({ type: 'progress', phase: 'prefill', position: null, promptTokens: 30, fedEstimate: 0, etaMs: Math.round(30_000 / 13.28) });
    });

    it('shows the oldest wait, the estimated wait and the phase and progress of the turn in the snapshot', async () => {
      const runner = await boot();
      expect(service.snapshot()).toMatchObject({ oldestWaitMs: null, estimatedWaitMs: 0, turn: null });
      const subscriptions = [ask('a').subscribe(), ask('b').subscribe()];
      await flush();
      await clock.advance(2_000);
      expect(service.snapshot()).toMatchObject({
        oldestWaitMs: 2_000,
        estimatedWaitMs: 11_000 + 13_000,
        turn: { phase: 'prefill', promptTokens: 30, fedEstimate: 20, generatedTokens: 0, maxTokens: 994, elapsedMs: 2_000 },
      });
      runner.print('a');
      events.next({ type: 'tokens', handle: 'qh-1', generated: 4, limitReached: false });
      expect(service.snapshot().turn).toMatchObject({ phase: 'generating', fedEstimate: 30, generatedTokens: 4 });
      subscriptions.forEach((s) => s.unsubscribe());
    });

    it('refuses at once a request that would wait longer than its maxQueueWaitMs, Retry-After when the queue will have shrunk', async () => {
      await boot();
      const inFlight = ask('a').subscribe();
      await flush();
      const refused = lastValueFrom(service.generate({ requestId: 'x', prompt: 'x' }, { maxQueueWaitMs: 5_000 }));
      await expect(refused).rejects.toBeInstanceOf(QueueWaitTooLongError);
      await expect(refused).rejects.toMatchObject({ retryAfterSeconds: 8, message: expect.stringMatching(/wait about 13 s/) });
      expect(registered).toHaveLength(1); // refused before anything was registered
      const accepted = service.generate({ requestId: 'y', prompt: 'y' }, { maxQueueWaitMs: 20_000 }).subscribe();
      await flush();
      expect(service.snapshot().queue.length).toBe(1);
      accepted.unsubscribe();
      inFlight.unsubscribe();
    });
  });

  describe('prompt registration', () => {
    it('registers nothing for a request refused because the queue is full', async () => {
      await boot();
      const subscriptions = ['a', 'b', 'c', 'd', 'e'].map((content) => ask(content).subscribe({ error: () => undefined }));
      await flush();
      expect(registered).toHaveLength(5); // one in flight, four waiting
      const refused = lastValueFrom(ask('f'));
      await expect(refused).rejects.toBeInstanceOf(QueueFullError);
      await flush();
      expect(registered).toHaveLength(5);
      subscriptions.forEach((s) => s.unsubscribe());
    });

    it('types the handle registered on arrival when the request waited for its turn', async () => {
      const runner = await boot();
      const first = lastValueFrom(ask('a').pipe(toArray()));
      const second = lastValueFrom(ask('b').pipe(toArray()));
      await flush();
      expect(registered).toHaveLength(2);
      runner.print(turnStream('a'));
      await first;
      await flush();
      expect(runner.written).toEqual(['qh-1\n', 'qh-2\n']);
      runner.print(turnStream('b'));
      expect((await second).pop()).toMatchObject({ type: 'done' });
      expect(registered).toHaveLength(2);
      expect(tokenizer.released).toEqual([]);
    });

    it('registers a waiting prompt again when the tokenizer restarted meanwhile (it forgot the handle)', async () => {
      const runner = await boot();
      const first = lastValueFrom(ask('a').pipe(toArray()));
      const second = lastValueFrom(ask('b').pipe(toArray()));
      await flush();
      tokenizer.instance = 43;
      runner.print(turnStream('a'));
      await first;
      await flush();
      expect(registered).toHaveLength(3);
      expect(registered[2]).toMatchObject({ messages: [{ role: 'user', content: 'b' }] });
      expect(runner.written).toEqual(['qh-1\n', 'qh-3\n']);
      expect(tokenizer.released).toEqual([]); // the restarted tokenizer holds nothing to release
      runner.print(turnStream('b'));
      expect((await second).pop()).toMatchObject({ type: 'done' });
    });

    it('registers a waiting prompt again when its handle is about to expire, and releases the old one', async () => {
      const runner = await boot();
      tokenizer.handleLifetimeMs = 20_000;
      const first = lastValueFrom(ask('a').pipe(toArray()));
      const second = lastValueFrom(ask('b').pipe(toArray()));
      await flush();
      for (let i = 0; i < 4; i++) {
        await clock.advance(4_000);
        runner.print('x'); // 'a' is still being answered
      }
      // qh-2 has 4 s left: too little to be typed safely
      runner.print(turnStream('a'));
      await first;
      await flush();
      expect(runner.written).toEqual(['qh-1\n', 'qh-3\n']);
      expect(tokenizer.released).toEqual(['qh-2']);
      runner.print(turnStream('b'));
      expect((await second).pop()).toMatchObject({ type: 'done' });
    });

    it('releases the prompt of a request that leaves the queue before its turn', async () => {
      await boot();
      const first = ask('a').subscribe();
      const second = ask('b').subscribe();
      await flush();
      second.unsubscribe();
      await flush();
      expect(tokenizer.released).toEqual(['qh-2']);
      expect(service.snapshot().queue).toMatchObject({ length: 0, inFlight: 1 });
      first.unsubscribe();
    });

    it('stops the runner and fails the request when the runner reads a line the tokenizer does not hold', async () => {
      const runner = await boot();
      const seen: GenerationEvent[] = [];
      const failed = new Promise<unknown>((resolve) => ask('lost').subscribe({ next: (e) => seen.push(e), error: resolve }));
      await flush();
      expect(runner.written).toEqual(['qh-1\n']);
      events.next({ type: 'unknown-line' });
      const error = await failed;
      expect(error).toBeInstanceOf(ModelProcessError);
      expect((error as Error).message).toMatch(/no longer registered/);
      expect(runner.written).toEqual(['qh-1\n', '\x03']);
      runner.print('some answer to some other text'); // never reaches the client
      runner.print(turnStream(''));
      await flush();
      expect(seen.map((e) => e.type)).toEqual(['start']);
      expect(runner.written).toEqual(['qh-1\n', '\x03', '\x03']);
      expect(service.snapshot()).toMatchObject({ state: 'ready', queue: { inFlight: 0 } });
      const next = lastValueFrom(ask('next').pipe(toArray()));
      await flush();
      runner.print(turnStream('next'));
      expect((await next).pop()).toMatchObject({ type: 'done', finishReason: 'stop' });
    });
  });

  describe('only text our tokenizer produced reaches the client', () => {
    /** The real AXCL runtime burst of a dying NPU (the capture's last segment: 227 plain lines, ~19 KB). */
    const captured = segmentsAtPrompts(readCapture('pi5-session-device-dead.bin'));
    const realBurst = captured[captured.length - 1];
    const deltasOf = (events: GenerationEvent[]) =>
      events
        .filter((e): e is Extract<GenerationEvent, { type: 'delta' }> => e.type === 'delta')
        .map((e) => e.text)
        .join('');

    async function startVerifiedTurn(runner: FakeRunner, content: string) {
      const seen: GenerationEvent[] = [];
      const outcome = new Promise<Error | null>((resolve) => ask(content).subscribe({ next: (e) => seen.push(e), error: resolve, complete: () => resolve(null) }));
      await flush();
      expect(runner.written.at(-1)).toBe(`qh-${registered.length}\n`);
      events.next({ type: 'turn-start', handle: `qh-${registered.length}`, promptTokens: 30, printedTextReported: true });
      return { seen, outcome };
    }

    for (const cutting of [WHOLE, BYTE_BY_BYTE, randomCutting(11, 64)]) {
      it(`keeps every byte of the captured device-dead burst from the client, mid-answer (${cutting.name}), and fails with 503`, async () => {
        const runner = await boot();
        expect(realBurst.length).toBeGreaterThan(15_000);
        const { seen, outcome } = await startVerifiedTurn(runner, 'what is 2+2?');
        events.next({ type: 'printed-text', handle: 'qh-1', text: 'The answer ' });
        runner.print('The answer ');
        // The tokenizer already gave the runner its next chunk, which the dying runner never prints.
        events.next({ type: 'printed-text', handle: 'qh-1', text: 'to 2+2 is 4' });
        for (const piece of decodePieces(cutting.cut(Buffer.concat([Buffer.from('to 2+2 '), realBurst])))) runner.print(piece);
        await clock.advance(3000);
        const error = await outcome;
        expect(error).toBeInstanceOf(ModelUnavailableError);
        expect(error?.message).toMatch(/NPU device died/);
        expect(deltasOf(seen)).toBe('The answer to 2+2 ');
        expect(runner.signals).toContain('SIGKILL');
        expect(service.snapshot()).toMatchObject({ state: 'failed', deviceDead: true });
        expect(service.snapshot().lastError).toContain('device 1 is dead');
        expect(runners).toHaveLength(1);
      });
    }

    it('keeps a runtime line amid the answer from the client and still completes the answer', async () => {
      const runner = await boot();
      const { seen, outcome } = await startVerifiedTurn(runner, 'hi');
      const runtimeLine = '[2025-11-09 08:40:00.001][10994][W][runtime][check][12]: something the runtime says\n';
      events.next({ type: 'printed-text', handle: 'qh-1', text: 'Hello' });
      events.next({ type: 'printed-text', handle: 'qh-1', text: ' world' });
      runner.print('Hel');
      runner.print('lo' + runtimeLine + ' wor');
      runner.print('ld' + logRecord('E', 'Decode', 999, 'decode failed, status: 500, try again') + turnStream(''));
      expect(await outcome).toBeNull();
      expect(deltasOf(seen)).toBe('Hello world');
      expect(seen.at(-1)).toMatchObject({ type: 'done', finishReason: 'stop' });
    });

    it('holds terminal text until the tokenizer reports it (the two channels race), then delivers it', async () => {
      const runner = await boot();
      const { seen, outcome } = await startVerifiedTurn(runner, 'hi');
      runner.print('[2025-11-09 08:46:00.029][10994][W][device manager][listen][292]: device 1 is dead\n');
      expect(deltasOf(seen)).toBe('');
      events.next({ type: 'printed-text', handle: 'qh-1', text: '[2025-11-09 08:46:00.029][10994][W][device manager][listen][292]: device 1 is dead\n' });
      expect(deltasOf(seen)).toContain('device 1 is dead');
      runner.print('ok');
      events.next({ type: 'printed-text', handle: 'qh-1', text: 'ok' });
      runner.print(turnStream(''));
      expect(await outcome).toBeNull();
      expect(deltasOf(seen)).toBe('[2025-11-09 08:46:00.029][10994][W][device manager][listen][292]: device 1 is dead\nok');
      expect(service.snapshot()).toMatchObject({ state: 'ready', deviceDead: false });
    });

    it('declares terminal text the tokenizer never produced runner output when the turn ends', async () => {
      const runner = await boot();
      const { seen, outcome } = await startVerifiedTurn(runner, 'hi');
      events.next({ type: 'printed-text', handle: 'qh-1', text: 'fine' });
      runner.print('fine' + 'stray output with no line end');
      runner.print(turnStream(''));
      expect(await outcome).toBeNull();
      expect(deltasOf(seen)).toBe('fine');
    });
  });
});
