import type { RegisterPromptResponse, RegistrationAnswer } from '@qwen/tokenizer';
import type { FitRequest, FitResult } from '@qwen/tokenizer-engine';
import { PromptRegistrations, type PromptToStore } from './prompt-registrations';

const FITTED: FitResult = { ok: true, prompt: { ids: [1, 2, 3], promptTokens: 3, maxTokens: 10, droppedMessages: 0 } };
const RESPONSE: RegisterPromptResponse = { handle: 'qh-1', promptTokens: 3, maxTokens: 10, droppedMessages: 0, expiresAt: 5 };

describe(PromptRegistrations.name, () => {
  let fits: { id: number; request: FitRequest }[];
  let stores: PromptToStore[];
  let answers: RegistrationAnswer[];
  let errors: string[];
  let registrations: PromptRegistrations;

  beforeEach(() => {
    fits = [];
    stores = [];
    answers = [];
    errors = [];
    registrations = new PromptRegistrations({
      fit: (id, request) => fits.push({ id, request }),
      store: (fitted) => stores.push(fitted),
      answer: (answer) => answers.push(answer),
      logError: (message) => errors.push(message),
    });
  });

  it('fits a valid registration, has it stored, and answers only once the handle is stored', () => {
    registrations.receive({ type: 'register', id: 7, request: { prompt: 'x', contextWindow: 16, maxTokens: 10 } });
    expect(fits).toEqual([{ id: 7, request: expect.objectContaining({ prompt: 'x', contextWindow: 16, maxTokens: 10 }) }]);
    registrations.fitted(7, { result: FITTED });
    expect(stores).toEqual([{ id: 7, prompt: FITTED.ok && FITTED.prompt, contextWindow: 16 }]);
    expect(answers).toEqual([]);
    registrations.stored(7, RESPONSE);
    expect(answers).toEqual([{ type: 'registered', id: 7, response: RESPONSE }]);
  });

  it('refuses a request it cannot use with invalid_request, before any fit', () => {
    registrations.receive({ type: 'register', id: 1, request: { prompt: 'x', contextWindow: 0 } });
    registrations.receive({ type: 'register', id: 2, request: 'not an object' });
    expect(fits).toEqual([]);
    expect(answers).toEqual([
      { type: 'refused', id: 1, error: { code: 'invalid_request', message: 'contextWindow must be an integer >= 1' } },
      { type: 'refused', id: 2, error: { code: 'invalid_request', message: 'the body must be a JSON object' } },
    ]);
  });

  it('refuses a prompt that does not fit with the fitter\'s error, and a fit that failed with internal_error (logged)', () => {
    const tooLong: FitResult = { ok: false, error: { error: { code: 'context_length_exceeded', message: 'm', promptTokens: 40, contextWindow: 16 } } };
    registrations.receive({ type: 'register', id: 1, request: { prompt: 'x', contextWindow: 16 } });
    registrations.receive({ type: 'register', id: 2, request: { prompt: 'y', contextWindow: 16 } });
    registrations.fitted(1, { result: tooLong });
    registrations.fitted(2, { error: 'boom' });
    expect(stores).toEqual([]);
    expect(answers).toEqual([
      { type: 'refused', id: 1, error: tooLong.ok ? undefined : tooLong.error.error },
      { type: 'refused', id: 2, error: { code: 'internal_error', message: 'the tokenizer could not fit the prompt' } },
    ]);
    expect(errors).toEqual(['registration failed: boom']);
  });

  it('ignores a command without an id (it could not be answered) and an outcome of no registration of its own', () => {
    registrations.receive({ type: 'register', request: { prompt: 'x', contextWindow: 16 } });
    registrations.fitted(99, { result: FITTED });
    expect(fits).toEqual([]);
    expect(stores).toEqual([]);
    expect(answers).toEqual([]);
    expect(errors).toEqual(['a registration without an id was ignored']);
  });
});
