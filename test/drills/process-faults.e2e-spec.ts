/**
 * Failure drills: the processes behind the API fail while a client is being served (issue 8).
 * Real service, tokenizer server process and runner emulator under node-pty; the client is the
 * official OpenAI SDK. Each drill checks what the client saw (a clear error, never a silent
 * truncation or a hang), that the service recovers by itself (or, for a dead device, says why and
 * waits for the operator), and ends with a normal request answered correctly.
 * Requires `npm run build`.
 */
import { startTestService, TestService } from '@qwen/testing';
import { writeFileSync } from 'node:fs';
import OpenAI from 'openai';
import { chatBody, drainStream, expectNormalAnswer, openAiClient, runnerStarts, until } from './drill-support';

jest.setTimeout(60000);

describe('Drill: processes dying or hanging under a request', () => {
  let service: TestService;
  let client: OpenAI;

  beforeAll(async () => {
    // 5 ms per token: a repeated answer lasts long enough to be interrupted, the drills stay fast.
    service = await startTestService({
      emulatorEnv: { QWEN_EMU_TOKEN_MS: '5' },
      configure: (c) => {
        c.model.hangTimeoutMs = 600;
        c.model.prefillMsPerToken = 0;
      },
    });
    client = openAiClient(service);
  });
  afterAll(() => service?.close());

  /** Streams a 100-fold answer of `content` and SIGKILLs `pid` once the first repetition has arrived. */
  async function streamAndKillMidway(content: string, pid: number): ReturnType<typeof drainStream> {
    writeFileSync(service.faultFile, JSON.stringify({ repeat: 100 }));
    const stream = await client.chat.completions.create({ ...chatBody(content), stream: true });
    let killed = false;
    const outcome = await drainStream(stream, (text) => {
      if (!killed && text.length > content.length) {
        killed = true;
        process.kill(pid, 'SIGKILL');
      }
    });
    expect(killed).toBe(true);
    return outcome;
  }

  it('runner SIGKILLed mid-stream: the client gets one model_process_failed error after a true prefix, then the runner is back', async () => {
    const content = 'killed in the middle of a stream. ';
    const pid = service.model.snapshot().pid!;
    const loadsBefore = service.model.snapshot().loads;
    const outcome = await streamAndKillMidway(content, pid);
    expect(outcome.error).toBeInstanceOf(OpenAI.APIError);
    expect(outcome.error).toMatchObject({ code: 'model_process_failed' });
    // What arrived is exactly the beginning of the answer: nothing garbled, nothing presented as complete.
    expect(content.repeat(100).startsWith(outcome.text)).toBe(true);
    expect(outcome.text.length).toBeLessThan(content.length * 100);
    expect(outcome.finishReason).toBeNull();

    const back = await service.waitForModel((s) => s.state === 'ready' && s.loads === loadsBefore + 1, 'the restarted runner');
    expect(back.pid).not.toBe(pid);
    expect(back.lastError ?? '').toMatch(/signal 9|SIGKILL/);
    await expectNormalAnswer(service, 'served again after the runner was killed');
  });

  it('tokenizer SIGKILLed mid-generation: the runner dies with it, the client gets an error, both come back', async () => {
    const content = 'the tokenizer dies under this answer. ';
    const tokenizerPid = service.tokenizer.snapshot().pid!;
    const tokenizerRestarts = service.tokenizer.snapshot().restarts;
    const loadsBefore = service.model.snapshot().loads;
    const outcome = await streamAndKillMidway(content, tokenizerPid);
    expect(outcome.error).toBeInstanceOf(OpenAI.APIError);
    expect((outcome.error as InstanceType<typeof OpenAI.APIError>).code).toMatch(/model_process_failed|tokenizer_unavailable/);
    expect(content.repeat(100).startsWith(outcome.text)).toBe(true);
    expect(outcome.text.length).toBeLessThan(content.length * 100);

    await until(() => service.tokenizer.snapshot().state === 'ready' && service.tokenizer.snapshot().restarts > tokenizerRestarts, 'the tokenizer restart', 20000);
    expect(service.tokenizer.snapshot().pid).not.toBe(tokenizerPid);
    await service.waitForModel((s) => s.state === 'ready' && s.loads > loadsBefore, 'the runner reloaded against the new tokenizer', 30000);
    await expectNormalAnswer(service, 'served again after the tokenizer was killed');
  });

  it('runner hanging while busy: the request fails within the hang timeout (not forever), the runner is replaced', async () => {
    writeFileSync(service.faultFile, JSON.stringify({ hangAfterTokens: 3 }));
    const pid = service.model.snapshot().pid!;
    const started = Date.now();
    const stream = await client.chat.completions.create({ ...chatBody('this answer stops after three tokens and never ends'), stream: true });
    const outcome = await drainStream(stream);
    expect(outcome.error).toBeInstanceOf(OpenAI.APIError);
    expect(outcome.error).toMatchObject({ code: 'model_process_failed' });
    expect((outcome.error as Error).message).toMatch(/stopped responding/);
    expect(Date.now() - started).toBeLessThan(10000);
    expect('this answer stops after three tokens and never ends'.startsWith(outcome.text)).toBe(true);

    await service.waitForModel((s) => s.state === 'ready' && s.pid !== pid, 'the replacement runner');
    // A non-streamed client sees the same clear error.
    writeFileSync(service.faultFile, JSON.stringify({ hangAfterTokens: 2 }));
    const error = await client.chat.completions.create(chatBody('non-streamed and hanging')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(error).toMatchObject({ status: 502, code: 'model_process_failed' });
    await service.waitForModel((s) => s.state === 'ready', 'the second replacement runner');
    await expectNormalAnswer(service, 'served again after two hangs');
  });
});

describe('Drill: the NPU device dies (the "device is dead" burst)', () => {
  let service: TestService;

  beforeAll(async () => {
    service = await startTestService({ emulatorEnv: { QWEN_EMU_TOKEN_MS: '5' } });
  });
  afterAll(() => service?.close());

  it('fails the request, does not restart in a loop, /health says why, and POST /admin/reload is the way out', async () => {
    const client = openAiClient(service);
    expect(runnerStarts(service)).toBe(1);
    writeFileSync(service.faultFile, JSON.stringify({ deviceDeadAfterTokens: 2 }));
    const error = await client.chat.completions.create(chatBody('the device dies under this one')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    // The model is unavailable until the machine is rebooted: 503 in the API's shape.
    expect(error).toMatchObject({ status: 503, code: 'model_unavailable' });
    expect((error as Error).message).toMatch(/NPU device died/);

    const dead = await service.waitForModel((s) => s.state === 'failed' && s.deviceDead, 'the device-dead failed state');
    expect(dead.lastError).toMatch(/device is dead/);
    // No restart storm: the harness back-off is at most 400 ms; over 5 of those, no runner starts.
    const watchUntil = Date.now() + 2000;
    await until(() => runnerStarts(service) !== 1 || Date.now() > watchUntil, 'the watch window', 5000, 50);
    expect(runnerStarts(service)).toBe(1);
    expect(service.model.snapshot()).toMatchObject({ state: 'failed', deviceDead: true, loads: 1 });

    const health = await fetch(`${service.url}/health`);
    expect(health.status).toBe(503);
    const body = (await health.json()) as { status: string; reasons: string[]; details: { model: { deviceDead: boolean; state: string } } };
    expect(body.status).toBe('down');
    expect(body.details.model).toMatchObject({ state: 'failed', deviceDead: true });
    expect(body.reasons.join(' ')).toMatch(/device/i);

    // While down, requests get a clear 503, not a hang.
    const refused = await client.chat.completions.create(chatBody('anyone there?')).catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 503, code: 'model_unavailable' });

    const reload = await fetch(`${service.url}/admin/reload`, { method: 'POST', headers: service.adminAuthorization() });
    expect(reload.status).toBe(202);
    await service.waitForModel((s) => s.state === 'ready' && !s.deviceDead, 'the reloaded runner', 30000);
    expect(runnerStarts(service)).toBe(2);
    const healthy = (await (await fetch(`${service.url}/health`)).json()) as { status: string };
    expect(healthy.status).toBe('ok');
    await expectNormalAnswer(service, 'served again after the device came back');
  });

  it('streams none of the runtime burst to the client: the answer so far, then the error', async () => {
    const client = openAiClient(service);
    const question = 'every word of this answer is model text and nothing else';
    writeFileSync(service.faultFile, JSON.stringify({ deviceDeadAfterTokens: 7 }));
    const stream = await client.chat.completions.create({ ...chatBody(question), stream: true });
    const outcome = await drainStream(stream);
    expect(outcome.error).toBeTruthy();
    expect(String((outcome.error as Error).message)).toMatch(/NPU device died/);
    // The emulator answers with the question: what came is a beginning of it, not a byte of the burst.
    expect(outcome.text.length).toBeGreaterThan(0);
    expect(question.startsWith(outcome.text)).toBe(true);
    const dead = await service.waitForModel((s) => s.state === 'failed' && s.deviceDead, 'the device-dead failed state');
    expect(dead.lastError).toMatch(/\[W\]\[device manager\].*device \d+ is dead/);
    // The operator still sees the burst: /health's output tail keeps the runner's own lines.
    expect(dead.outputTail.join('\n')).toMatch(/\[C\]\[device\]\[print\]/);
  });
});
