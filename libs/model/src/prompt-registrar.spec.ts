import { ContextLengthExceededError, TokenizerBridge, TokenizerUnavailableError } from '@qwen/tokenizer';
import { FakeTokenizerBridge } from '../../../test/doubles/fake-tokenizer-bridge';
import { flushPromises, ManualClock } from '../../../test/doubles/manual-clock';
import { PromptLimits, PromptRegistrar } from './prompt-registrar';

const limits: PromptLimits = { answerReserveTokens: 64, promptBudgetTokens: 600 };

describe(PromptRegistrar.name, () => {
  let clock: ManualClock;
  let tokenizer: FakeTokenizerBridge;
  let registrar: PromptRegistrar;
  const request = { requestId: 'r', messages: [{ role: 'user' as const, content: 'hi' }], maxTokens: 5 };

  beforeEach(() => {
    clock = new ManualClock();
    tokenizer = new FakeTokenizerBridge(() => clock.now());
    registrar = new PromptRegistrar(tokenizer as unknown as TokenizerBridge, clock);
  });

  it('registers the request for the runner window', async () => {
    const registration = registrar.register(request, 1024, limits);
    expect(await registration.response).toMatchObject({ handle: 'qh-1' });
    expect(tokenizer.registered).toEqual([{ messages: request.messages, prompt: undefined, contextWindow: 1024, maxTokens: 5, answerReserve: 64, promptBudget: 600 }]);
    expect(await registrar.forTurn(registration)).toMatchObject({ handle: 'qh-1' });
    expect(tokenizer.registered).toHaveLength(1);
  });

  it('rejects a prompt that cannot fit; an unreachable tokenizer only defers the registration to the turn', async () => {
    tokenizer.registerBehaviour = async () => {
      throw new ContextLengthExceededError(2000, 1024, 5);
    };
    await expect(registrar.register(request, 1024, limits).response).rejects.toBeInstanceOf(ContextLengthExceededError);
    tokenizer.registerBehaviour = async () => {
      throw new TokenizerUnavailableError();
    };
    const deferred = registrar.register(request, 1024, limits);
    expect(await deferred.response).toBeNull();
    tokenizer.registerBehaviour = async (_r, handle) => ({ handle, promptTokens: 3, maxTokens: 5, droppedMessages: 0, expiresAt: 120_000 });
    expect(await registrar.forTurn(deferred)).toMatchObject({ handle: 'qh-3' });
  });

  it('releases a handle that will never be typed, but not one a restarted tokenizer already forgot', async () => {
    const kept = registrar.register(request, 1024, limits);
    registrar.release(kept);
    await flushPromises();
    expect(tokenizer.released).toEqual(['qh-1']);
    const forgotten = registrar.register(request, 1024, limits);
    tokenizer.instance = 43;
    registrar.release(forgotten);
    await flushPromises();
    expect(tokenizer.released).toEqual(['qh-1']);
  });
});
