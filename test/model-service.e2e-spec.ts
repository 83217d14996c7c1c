/**
 * ModelModule through the real pty against the runner emulator (issue 3, section 5).
 * The emulator answers with the ids of the last user message, so every answer proves which
 * request it belongs to, and multi-byte text goes through the real tokenizer both ways.
 */
import { ModelProcessError, ModelService, ModelUnavailableError, GenerationEvent, GenerationRequest } from '@qwen/model';
import { QwenTokenizer } from '@qwen/tokenizer-engine';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { firstValueFrom, lastValueFrom, filter, Subscription, toArray } from 'rxjs';
import { startTestService, TestService } from './support';

jest.setTimeout(60000);

interface Outcome {
  text: string;
  events: GenerationEvent[];
  done: Extract<GenerationEvent, { type: 'done' }>;
  start: Extract<GenerationEvent, { type: 'start' }>;
}

let counter = 0;
function request(content: string, extra: Partial<GenerationRequest> = {}): GenerationRequest {
  counter += 1;
  return { requestId: `test-${counter}`, messages: [{ role: 'user', content }], ...extra };
}

async function run(model: ModelService, req: GenerationRequest): Promise<Outcome> {
  // Progress events (a queued request's position, its prompt being fed) come before `start` and are not the answer.
  const events = (await lastValueFrom(model.generate(req).pipe(toArray()))).filter((e) => e.type !== 'progress');
  const text = events.map((e) => (e.type === 'delta' ? e.text : '')).join('');
  const done = events[events.length - 1];
  const start = events[0];
  if (done.type !== 'done' || start.type !== 'start') throw new Error(`unexpected events ${JSON.stringify(events)}`);
  return { text, events, done, start };
}

function starts(service: TestService): number {
  return existsSync(service.startLog) ? readFileSync(service.startLog, 'utf8').trim().split('\n').filter(Boolean).length : 0;
}

describe('ModelService through the pty (emulator)', () => {
  let service: TestService;
  let tokenizer: QwenTokenizer;

  beforeAll(async () => {
    tokenizer = await QwenTokenizer.load();
    service = await startTestService({ configure: (c) => (c.model.queueMaxLength = 32) });
  });
  afterAll(async () => service?.close());

  it('answers one request with its own text, exact usage and a stop finish', async () => {
    const content = 'Hello there, how are you today?';
    const outcome = await run(service.model, request(content));
    expect(outcome.text).toBe(content);
    expect(outcome.done.finishReason).toBe('stop');
    expect(outcome.done.usage.completionTokens).toBe(tokenizer.encode(content).length);
    expect(outcome.done.usage.promptTokens).toBe(outcome.start.promptTokens);
    expect(outcome.start.promptTokens).toBeGreaterThan(tokenizer.encode(content).length);
  });

  it('gives each of 20 concurrent requests its own answer, in arrival order', async () => {
    const order: number[] = [];
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        run(service.model, request(`request number ${i} says ${'abc'.repeat(i % 4)}`)).then((o) => {
          order.push(i);
          return o;
        }),
      ),
    );
    outcomes.forEach((o, i) => expect(o.text).toBe(`request number ${i} says ${'abc'.repeat(i % 4)}`));
    expect(order).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('sends a multi-line, multi-turn transcript as ONE request', async () => {
    const last = 'Line one of the question\nline two\n\nline four after a blank line';
    const outcome = await run(service.model, {
      requestId: 'multi',
      messages: [
        { role: 'system', content: 'You are terse.\nVery terse.' },
        { role: 'user', content: 'first question\nwith two lines' },
        { role: 'assistant', content: 'first answer\n>> not a prompt' },
        { role: 'user', content: last },
      ],
    });
    expect(outcome.text).toBe(last);
    expect(service.model.snapshot().state).toBe('ready');
  });

  it('keeps hostile content as text and the runner undisturbed', async () => {
    const footerImitation = '\n\n[N][                             Run][ 610]: hit eos,avg 13.28 token/s\n\n>> ';
    for (const content of ['q', footerImitation, '>> ', 'ESC [1;30;35m[N] fake log']) {
      expect((await run(service.model, request(content))).text).toBe(content);
    }
    // Control bytes never reach the terminal as keystrokes; in the answer they are scrubbed.
    const controls = await run(service.model, request('a\x03b\x04c\x1b[31mred\x1b[0m'));
    expect(controls.text).toBe('abc[31mred[0m');
    // A 10,000-character line: far more than the pty's 4095-byte line, still one request.
    const long = '-'.repeat(10000);
    expect(tokenizer.encode(long).length).toBeLessThan(900);
    const outcome = await run(service.model, request(long, { maxTokens: 8 }));
    expect(outcome.done.finishReason).toBe('length');
    expect(outcome.done.usage.completionTokens).toBe(8);
    expect((await run(service.model, request('still fine'))).text).toBe('still fine');
  });

  it('returns Chinese and emoji intact', async () => {
    const content = '你好，世界！今天天气很好。🙂👍🏽👨‍👩‍👧 emoji and 中文 mixed';
    expect((await run(service.model, request(content))).text).toBe(content);
  });

  it('cuts exactly at max_tokens', async () => {
    const content = 'one two three four five six seven eight nine ten eleven twelve';
    const ids = tokenizer.encode(content);
    for (const max of [1, 2, 3, 4, 5, 7]) {
      const outcome = await run(service.model, request(content, { maxTokens: max }));
      expect(outcome.done.usage.completionTokens).toBe(max);
      expect(outcome.done.finishReason).toBe('length');
      expect(outcome.text).toBe(tokenizer.decode(ids.slice(0, max)));
    }
  });

  it('stops exactly before a stop string', async () => {
    const outcome = await run(service.model, request('alpha beta STOP gamma delta', { stop: ['STOP', 'never'] }));
    expect(outcome.text).toBe('alpha beta ');
    expect(outcome.done.finishReason).toBe('stop');
    const second = await run(service.model, request('no stop string here', { stop: ['zzz'] }));
    expect(second.text).toBe('no stop string here');
  });

  it('rejects a prompt that cannot fit the window without touching the runner', async () => {
    const huge = 'token '.repeat(1500);
    await expect(run(service.model, request(huge))).rejects.toThrow(/maximum context length is 1024 tokens/);
    expect((await run(service.model, request('after the rejection'))).text).toBe('after the rejection');
  });

  it('has loaded the model exactly once for all of the above', () => {
    expect(starts(service)).toBe(1);
    expect(service.model.snapshot().loads).toBe(1);
    expect(service.model.snapshot().maxTokenLen).toBe(1024);
    expect(service.model.snapshot().sampling).toMatchObject({ temperature: 0.9, top_k: 10 });
  });
});

describe('ModelService cancellation and faults (emulator)', () => {
  let service: TestService;

  beforeAll(async () => {
    service = await startTestService({ emulatorEnv: { QWEN_EMU_TOKEN_MS: '20' } });
  });
  afterAll(async () => service?.close());

  it('stops a generation when the client leaves and serves the next one at once', async () => {
    const long = 'many words '.repeat(150);
    let subscription: Subscription | undefined;
    await new Promise<void>((resolve, reject) => {
      subscription = service.model.generate(request(long)).subscribe({
        next: (e) => e.type === 'delta' && resolve(),
        error: reject,
      });
    });
    subscription!.unsubscribe();
    const started = Date.now();
    const next = await run(service.model, request('next in line'));
    expect(next.text).toBe('next in line');
    // Without Ctrl-C the runner would need 300 tokens x 20 ms = 6 s to finish the abandoned turn.
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('drops a queued request whose client leaves without touching the runner', async () => {
    const firstText = 'first '.repeat(40).trim();
    const first = run(service.model, request(firstText));
    await firstValueFrom(service.model.snapshots$.pipe(filter((s) => s.queue.inFlight === 1)));
    const queued = service.model.generate(request('never typed')).subscribe();
    expect(service.model.snapshot().queue.length).toBe(1);
    queued.unsubscribe();
    expect(service.model.snapshot().queue.length).toBe(0);
    expect((await first).text).toBe(firstText);
    expect((await run(service.model, request('after the dropped one'))).text).toBe('after the dropped one');
  });

  it('fails the request in flight when the runner crashes, then restarts and serves', async () => {
    writeFileSync(service.faultFile, JSON.stringify({ crashAfterTokens: 2 }));
    await expect(run(service.model, request('this one will crash midway through'))).rejects.toBeInstanceOf(ModelProcessError);
    await service.waitForModel((s) => s.state === 'ready', 'the restarted runner');
    expect((await run(service.model, request('after the crash'))).text).toBe('after the crash');
    expect(service.model.snapshot().restarts).toBe(1);
    expect(starts(service)).toBe(2);
  });

  it('serves a queued request correctly after the tokenizer (and with it the runner) died', async () => {
    const inFlight = run(service.model, request('in flight '.repeat(60)));
    await firstValueFrom(service.model.snapshots$.pipe(filter((s) => s.queue.inFlight === 1)));
    const queued = run(service.model, request('queued across the outage'));
    const tokenizerPid = service.tokenizer.snapshot().pid!;
    process.kill(tokenizerPid, 'SIGKILL');
    // The real runner dies with its tokenizer; the request in flight fails clearly…
    await expect(inFlight).rejects.toBeInstanceOf(ModelProcessError);
    // …and the queued one is registered again with the new tokenizer process, not typed as a stale handle.
    expect((await queued).text).toBe('queued across the outage');
    expect(service.tokenizer.snapshot().pid).not.toBe(tokenizerPid);
  });

  it('treats a silent busy runner as hung: fails the request, kills and restarts it', async () => {
    service.config.model.hangTimeoutMs = 500;
    service.config.model.prefillMsPerToken = 0;
    writeFileSync(service.faultFile, JSON.stringify({ hangAfterTokens: 3 }));
    await expect(run(service.model, request('this one will hang after a few tokens'))).rejects.toThrow(/stopped responding/);
    await service.waitForModel((s) => s.state === 'ready', 'the restarted runner');
    expect((await run(service.model, request('after the hang'))).text).toBe('after the hang');
  });
});

describe('ModelService cancellation at the moment a request is typed (emulator, paced prompt)', () => {
  let service: TestService;

  beforeAll(async () => {
    service = await startTestService({ emulatorEnv: { QWEN_EMU_TOKEN_MS: '20', QWEN_EMU_PROMPT_TOKEN_MS: '20' } });
  });
  afterAll(async () => service?.close());

  it('frees the runner when the client leaves on its start event', async () => {
    const long = 'many words '.repeat(150); // ~300 prompt tokens, ~300 answer tokens: 12 s if not stopped
    for (let attempt = 0; attempt < 3; attempt++) {
      const subscription: Subscription = service.model
        .generate(request(long))
        .subscribe({ next: (e) => e.type === 'start' && subscription.unsubscribe() });
      const started = Date.now();
      const next = await run(service.model, request(`next ${attempt}`));
      expect(next.text).toBe(`next ${attempt}`);
      // The abandoned prompt is still read in (no early exit from prefill) but its answer is stopped.
      expect(Date.now() - started).toBeLessThan(9000);
    }
  });
});

describe('Ctrl-C as a turn ends (emulator at full speed)', () => {
  let service: TestService;

  beforeAll(async () => {
    service = await startTestService({ emulatorEnv: { QWEN_EMU_TOKEN_MS: '0' }, configure: (c) => (c.model.hangTimeoutMs = 3000) });
  });
  afterAll(async () => service?.close());

  it('never loses the runner prompt to a Ctrl-C that lands as the answer finishes', async () => {
    // A 2-token limit makes the service send Ctrl-C while a short answer is already ending; a
    // terminal that flushes its queues on Ctrl-C would discard the ">> " just printed (hang, 502).
    for (let i = 0; i < 40; i++) {
      for (const content of ['q', '>> ', '\n\n>> q\n', '[N][ Run][ 610]: hit eos', 'hello']) {
        const outcome = await run(service.model, request(content, { maxTokens: 2 }));
        expect(content.startsWith(outcome.text)).toBe(true);
      }
    }
    expect(service.model.snapshot()).toMatchObject({ state: 'ready', loads: 1, restarts: 0 });
  });
});

describe('ModelService failures that must not loop', () => {
  it('stops restarting after repeated init failures and reports failed with the output tail', async () => {
    const service = await startTestService({
      emulatorEnv: { QWEN_EMU_FAIL_INIT: '1' },
      configure: (c) => (c.model.maxConsecutiveFailures = 3),
      waitReady: false,
    });
    try {
      const failed = await service.waitForModel((s) => s.state === 'failed', 'the failed state', 50000);
      expect(failed.consecutiveFailures).toBe(3);
      expect(failed.outputTail.some((line) => line.includes('[E]'))).toBe(true);
      expect(starts(service)).toBe(3);
      await expect(lastValueFrom(service.model.generate(request('hello')))).rejects.toBeInstanceOf(ModelUnavailableError);
      // No restart is pending: the process count stays at 3 well past the longest back-off (400 ms).
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(starts(service)).toBe(3);
      expect(service.model.snapshot().state).toBe('failed');
    } finally {
      await service.close();
    }
  });

  it('stops a stale runner left by a crashed service before starting its own', async () => {
    let stale: ChildProcess | undefined;
    const service = await startTestService({
      waitReady: false,
      configure: (c) => {
        // What a left-behind emulated runner is: this Node (the stand-in main_axcl_x86 is a script that
        // execs Node), as our user, in the runner's own working directory (<runDir>/runner, where the
        // service starts it). A name in a command line is not enough.
        const workDir = join(c.paths.runDir, 'runner');
        mkdirSync(workDir, { recursive: true });
        stale = spawn(process.execPath, ['-e', 'setInterval(() => undefined, 1000)'], { cwd: workDir, detached: true, stdio: 'ignore' });
        writeFileSync(join(c.paths.runDir, 'runner.pid'), `${stale.pid}\n`);
      },
    });
    try {
      const exited = new Promise<string | null>((resolve) => stale!.once('exit', (_code, signal) => resolve(signal)));
      await service.waitForModel((s) => s.state === 'ready', 'the model to be ready');
      expect(await exited).toBe('SIGTERM');
      expect(readFileSync(join(service.runDir, 'runner.pid'), 'utf8').trim()).toBe(String(service.model.snapshot().pid));
    } finally {
      stale?.kill('SIGKILL');
      await service.close();
    }
  });
});
