import { Injectable } from '@nestjs/common';
import { Counter, Registry } from 'prom-client';

/** What the chat pipeline reports once per finished HTTP request. */
export interface RequestObservation {
  route: string;
  status: number;
  dialect: 'openai' | 'ollama';
  /** Null when the request never reached the queue (validation errors…). */
  queueWaitMs: number | null;
  ttftMs: number | null;
  promptTokens: number;
  completionTokens: number;
  durationMs: number;
}

/**
 * Prometheus metrics (prom-client). SKELETON of the API: HealthModule's owner completes it
 * (histograms, model/tokenizer gauges, default process metrics, GET /metrics).
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'qwen_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['route', 'status', 'dialect'] as const,
    registers: [this.registry],
  });

  observeRequest(o: RequestObservation): void {
    this.requests.inc({ route: o.route, status: String(o.status), dialect: o.dialect });
  }
}
