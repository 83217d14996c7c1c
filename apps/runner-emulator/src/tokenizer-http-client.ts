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
  /** Text of `ids`; a bad answer is retried once after 1 s, then gives ''. */
  decode(ids: number[]): Promise<string>;
}

/**
 * The runner's HTTP tokenizer client (cpp-httplib): 1 s connect/read/write timeouts, a new
 * connection per call, no proxy, JSON bodies.
 */
export class TokenizerHttpClient implements TokenizerPort {
  private readonly http: AxiosInstance;

  constructor(
    baseUrl: string,
    private readonly clock: Clock,
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
      if (attempt > 0) await this.clock.sleep(this.decodeRetryDelayMs);
      const body = await this.call('post', '/decode', { token_ids: ids });
      const text = body.json?.text;
      if (body.status === 200 && typeof text === 'string') return text;
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

  private async call(method: 'get' | 'post', path: string, data?: unknown): Promise<{ status: number; json: Record<string, unknown> | null }> {
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
    return { status: response.status, json };
  }
}

function isIdList(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'number' && Number.isInteger(v));
}
