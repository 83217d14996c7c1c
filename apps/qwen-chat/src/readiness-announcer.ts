import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { ModelService, ModelSnapshot } from '@qwen/model';
import { Clock } from '@qwen/supervision';
import { Subscription } from 'rxjs';

/** Where the service answers (the listeners' base URLs, as bound). */
export interface ServiceUrls {
  url: string;
  ollamaUrl: string | null;
}

/** While loading, a progress line at each quarter of the steps, or once this long has passed since the last one. */
const PROGRESS_EVERY_MS = 5000;

/**
 * Tells the console (and so the journal) when the service can really answer: the model's load
 * progress while it loads, then ONE "ready" banner with the URLs to use and a request to try. A
 * listening socket is not readiness: requests get 503 until the model is loaded.
 */
@Injectable()
export class ReadinessAnnouncer implements OnApplicationShutdown {
  private readonly logger = new Logger('Readiness');
  private subscription: Subscription | null = null;

  constructor(
    private readonly model: ModelService,
    private readonly clock: Clock,
  ) {}

  /** Follows the model from now on (called once the listeners are up). */
  follow(urls: ServiceUrls): void {
    this.subscription?.unsubscribe();
    let loadStartedAt: number | null = null;
    let lastLineAt = 0;
    let lastQuarter = 0;
    let announced = false;
    let ready = false;
    this.subscription = this.model.snapshots$.subscribe((snapshot) => {
      const now = this.clock.now();
      if (snapshot.state === 'ready' || snapshot.state === 'busy') {
        if (ready) return;
        ready = true;
        const loadedIn = loadStartedAt === null ? '' : ` in ${Math.round((now - loadStartedAt) / 1000)} s`;
        if (announced) this.logger.log(`ready again: the model is loaded${loadedIn}`);
        else this.banner(urls, loadedIn);
        announced = true;
        loadStartedAt = null;
        return;
      }
      ready = false;
      if (snapshot.state !== 'loading') return;
      if (loadStartedAt === null) {
        loadStartedAt = now;
        lastLineAt = now;
        lastQuarter = 0;
      }
      const quarter = progressQuarter(snapshot);
      if (quarter > lastQuarter || now - lastLineAt >= PROGRESS_EVERY_MS) {
        lastQuarter = Math.max(lastQuarter, quarter);
        lastLineAt = now;
        this.logger.log(`loading the model: ${describeProgress(snapshot, now - loadStartedAt)}`);
      }
    });
  }

  onApplicationShutdown(): void {
    this.subscription?.unsubscribe();
  }

  private banner(urls: ServiceUrls, loadedIn: string): void {
    const local = reachableUrl(urls.url);
    const allInterfaces = local !== urls.url ? ' (listening on every interface: from another machine, use its address)' : '';
    const lines = [
      `READY: the model is loaded${loadedIn}; requests are answered now${allInterfaces}`,
      `  OpenAI base URL:  ${local}/v1`,
      `  Ollama URL:       ${local}${urls.ollamaUrl ? ` and ${reachableUrl(urls.ollamaUrl)}` : ''}`,
      `  chat page:        ${local}/ui`,
      `  try: curl ${local}/v1/chat/completions -H 'Content-Type: application/json' -d '{"model":"qwen2.5","messages":[{"role":"user","content":"Hello"}]}'`,
    ];
    for (const line of lines) this.logger.log(line);
  }
}

function progressQuarter(snapshot: ModelSnapshot): number {
  const progress = snapshot.progress;
  if (!progress || progress.total <= 0) return 0;
  return Math.floor((Math.min(progress.step, progress.total) / progress.total) * 4);
}

function describeProgress(snapshot: ModelSnapshot, elapsedMs: number): string {
  const progress = snapshot.progress;
  const elapsed = `${Math.round(elapsedMs / 1000)} s`;
  if (!progress || progress.total <= 0) return `started ${elapsed} ago, no progress reported yet`;
  const percent = Math.round((Math.min(progress.step, progress.total) / progress.total) * 100);
  return `step ${progress.step}/${progress.total} (${percent} %, ${elapsed}): ${progress.text}`;
}

/** A URL a person on this machine can open: a wildcard bind address becomes loopback. */
function reachableUrl(url: string): string {
  return url.replace('//0.0.0.0:', '//127.0.0.1:').replace('//[::]:', '//127.0.0.1:');
}
