/**
 * A minimal OpenAI client for the benchmark: keep-alive node:http, SSE parsed by hand, every content
 * delta timestamped with performance.now() when its bytes arrive (no SDK between the socket and
 * the clock).
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { TimedChunk } from './direct-runner';

export interface ServiceTurn {
  status: number;
  startedAt: number;
  firstTextAt: number | null;
  endedAt: number;
  text: string;
  chunks: TimedChunk[];
  completionTokens: number | null;
  /** The parsed error body for a non-200. */
  error: { message?: string; type?: string; code?: string | null } | null;
}

export class BenchClient {
  private readonly agent: Agent;

  constructor(
    private readonly baseUrl: string,
    maxSockets = 4,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets });
  }

  close(): void {
    this.agent.destroy();
  }

  /** POST /v1/chat/completions, streamed (SSE, with usage) or not. */
  chat(messages: { role: string; content: string }[], stream: boolean, extra: Record<string, unknown> = {}): Promise<ServiceTurn> {
    const payload = JSON.stringify({ model: 'qwen2.5', messages, stream, ...(stream ? { stream_options: { include_usage: true } } : {}), ...extra });
    const startedAt = performance.now();
    return new Promise((resolve, reject) => {
      const req = request(
        `${this.baseUrl}/v1/chat/completions`,
        { method: 'POST', agent: this.agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
        (res) => {
          const chunks: TimedChunk[] = [];
          let raw = '';
          let pending = '';
          let completionTokens: number | null = null;
          res.setEncoding('utf8');
          res.on('data', (data: string) => {
            const at = performance.now();
            if (!stream || res.statusCode !== 200) {
              raw += data;
              return;
            }
            pending += data;
            let cut: number;
            while ((cut = pending.indexOf('\n\n')) >= 0) {
              const frame = pending.slice(0, cut);
              pending = pending.slice(cut + 2);
              if (!frame.startsWith('data: ') || frame === 'data: [DONE]') continue;
              const event = JSON.parse(frame.slice(6)) as { choices?: { delta?: { content?: string } }[]; usage?: { completion_tokens: number } | null };
              const text = event.choices?.[0]?.delta?.content;
              if (text) chunks.push({ at, text });
              if (event.usage) completionTokens = event.usage.completion_tokens;
            }
          });
          res.on('end', () => {
            const endedAt = performance.now();
            const status = res.statusCode ?? 0;
            let text = chunks.map((c) => c.text).join('');
            let error: ServiceTurn['error'] = null;
            if (!stream || status !== 200) {
              const body = JSON.parse(raw) as { choices?: { message: { content: string } }[]; usage?: { completion_tokens: number }; error?: ServiceTurn['error'] };
              if (status === 200) {
                text = body.choices?.[0]?.message.content ?? '';
                completionTokens = body.usage?.completion_tokens ?? null;
                chunks.push({ at: endedAt, text });
              } else error = body.error ?? { message: raw };
            }
            resolve({ status, startedAt, firstTextAt: chunks[0]?.at ?? null, endedAt, text, chunks, completionTokens, error });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  async getJson<T>(path: string): Promise<T> {
    const res = await fetch(`${this.baseUrl}${path}`);
    return (await res.json()) as T;
  }
}
