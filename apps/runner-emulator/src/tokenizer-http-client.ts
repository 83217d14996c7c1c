import axios, { AxiosInstance } from 'axios';
import { Agent } from 'node:http';
import type { Clock } from './clock';

/** The server could not be reached (refused, reset, timed out): the real client then dereferences an empty result. */
export class TokenizerUnreachableError extends Error {
  constructor(path: string, cause: string) {
    super(`tokenizer unreachable on ${path}: ${cause}`);
    this.name = 'TokenizerUnreachableError';
  }
}

/** The server answered, but not with a 200 and the expected JSON. */
export class TokenizerResponseError extends Error {
  constructor(path: string, detail: string) {
    super(`tokenizer ${path}: ${detail}`);
    this.name = 'TokenizerResponseError';
  }
}

/** What the generation loop needs from the tokenizer (a port, so specs can fake it). */
export interface TokenizerPort {
  encode(text: string): Promise<number[]>;
  /**
   * Text of `ids`. A bad answer (not 200, or not JSON with a string `text`) prints two `[E][Decode]`
   * records and sleeps 1 s; it is tried twice in all, then gives ''. No answer within 1 s throws.
   */
  decode(ids: number[]): Promise<string>;
}

/** Prints one `[E]` record of the runner's `Decode` (its two lines per failed try). */
export type DecodeErrorPrinter = (text: string) => void;

/**
 * The runner's HTTP tokenizer client (cpp-httplib): 1 s connect/read/write timeouts, a new
 * connection per call, no proxy, JSON bodies. A call that gets no answer in time throws
 * {@link TokenizerUnreachableError}: the real client then dereferences an empty result (SIGSEGV).
 */
export class TokenizerHttpClient implements TokenizerPort {
  private readonly http: AxiosInstance;

  constructor(
    baseUrl: string,
    private readonly clock: Clock,
    private readonly printDecodeError: DecodeErrorPrinter,
    timeoutMs = 1000,
    private readonly decodeRetryDelayMs = 1000,
  ) {
    this.http = axios.create({
      baseURL: baseUrl.replace(/\/+$/, ''),
      timeout: timeoutMs,
      proxy: false,
      httpAgent: new Agent({ keepAlive: false }),
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      validateStatus: () => true,
      headers: { 'Content-Type': 'application/json' },
    });
  }

  async bosId(): Promise<number> {
    return this.readId('/bos_id', 'bos_id');
  }

  async eosId(): Promise<number> {
    return this.readId('/eos_id', 'eos_id');
  }

  async encode(text: string): Promise<number[]> {
    const body = await this.call('post', '/encode', { text });
    const ids = body.json?.token_ids;
    if (body.status !== 200 || !isIdList(ids)) throw new TokenizerResponseError('/encode', `status ${body.status}`);
    return ids;
  }

  async decode(ids: number[]): Promise<string> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const body = await this.call('post', '/decode', { token_ids: ids });
      if (body.status !== 200) {
        this.printDecodeError(`decode failed, status: ${body.status}, try again`);
      } else {
        const text = body.json?.text;
        if (typeof text === 'string') return text;
        // The real message carries nlohmann::json's what(), which is not reproduced here.
        this.printDecodeError(`json parse failed: ${body.json ? 'text is not a string' : 'unparsable body'}, try again`);
      }
      this.printDecodeError(body.raw);
      await this.clock.sleep(this.decodeRetryDelayMs);
    }
    return '';
  }

  private async readId(path: string, key: string): Promise<number> {
    const body = await this.call('get', path);
    const id = body.json?.[key];
    if (body.status !== 200 || typeof id !== 'number' || !Number.isInteger(id)) {
      throw new TokenizerResponseError(path, `status ${body.status}`);
    }
    return id;
  }

  private async call(method: 'get' | 'post', path: string, data?: unknown): Promise<{ status: number; raw: string; json: Record<string, unknown> | null }> {
    let response;
    try {
      response = await this.http.request<string>({ method, url: path, data });
    } catch (error) {
      throw new TokenizerUnreachableError(path, (error as { code?: string }).code ?? (error as Error).message);
    }
    let json: Record<string, unknown> | null = null;
    try {
      const parsed: unknown = JSON.parse(response.data);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
    } catch {
      json = null;
    }
    return { status: response.status, raw: response.data, json };
  }
}

function isIdList(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'number' && Number.isInteger(v));
}
