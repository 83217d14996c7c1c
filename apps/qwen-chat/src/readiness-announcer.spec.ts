import { Logger } from '@nestjs/common';
import type { ModelService, ModelSnapshot } from '@qwen/model';
import { BehaviorSubject } from 'rxjs';
import { modelSnapshot } from '../../../test/doubles/health/fake-snapshots';
import { ManualClock } from '../../../test/doubles/manual-clock';
import { ReadinessAnnouncer } from './readiness-announcer';

describe(ReadinessAnnouncer.name, () => {
  let snapshots: BehaviorSubject<ModelSnapshot>;
  let clock: ManualClock;
  let lines: string[];
  let announcer: ReadinessAnnouncer;

  const loading = (step: number, total = 20) => modelSnapshot({ state: 'loading', progress: { step, total, text: `init ${step} axmodel ok` } });

  beforeEach(() => {
    snapshots = new BehaviorSubject<ModelSnapshot>(modelSnapshot({ state: 'waiting-for-tokenizer' }));
    clock = new ManualClock();
    lines = [];
    jest.spyOn(Logger.prototype, 'log').mockImplementation((message: unknown) => void lines.push(String(message)));
    announcer = new ReadinessAnnouncer({ snapshots$: snapshots.asObservable() } as unknown as ModelService, clock);
  });

  afterEach(() => {
    announcer.onApplicationShutdown();
    jest.restoreAllMocks();
  });

  it('says nothing about readiness until the model is loaded, then prints the URLs to use and a request to try', async () => {
    announcer.follow({ url: 'http://127.0.0.1:9000', ollamaUrl: null });
    expect(lines).toEqual([]);
    snapshots.next(loading(1));
    await clock.advance(12_000);
    snapshots.next(modelSnapshot({ state: 'ready' }));
    expect(lines.filter((line) => line.includes('READY'))).toHaveLength(1);
    expect(lines.join('\n')).toContain('the model is loaded in 12 s');
    expect(lines).toContainEqual(expect.stringContaining('OpenAI base URL:  http://127.0.0.1:9000/v1'));
    expect(lines).toContainEqual(expect.stringContaining('Ollama URL:       http://127.0.0.1:9000'));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}try: curl http:\/\/127\.0\.0\.1:9000\/v1\/chat\/completions /));
    snapshots.next(modelSnapshot({ state: 'busy' }));
    snapshots.next(modelSnapshot({ state: 'ready' }));
    expect(lines.filter((line) => line.includes('READY'))).toHaveLength(1);
  });

  it('reports load progress at each quarter, or after 5 s without a new quarter', async () => {
    announcer.follow({ url: 'http://127.0.0.1:9000', ollamaUrl: null });
    snapshots.next(loading(1));
    snapshots.next(loading(2));
    expect(lines).toEqual([]);
    snapshots.next(loading(5)); // a quarter
    await clock.advance(1000);
    snapshots.next(loading(6)); // same quarter, 1 s later
    await clock.advance(5000);
    snapshots.next(loading(7)); // same quarter, 5 s later
    expect(lines).toEqual(['loading the model: step 5/20 (25 %, 0 s): init 5 axmodel ok', 'loading the model: step 7/20 (35 %, 6 s): init 7 axmodel ok']);
  });

  it('shows a loopback URL for a wildcard bind address and says a restarted model is ready again', () => {
    announcer.follow({ url: 'http://0.0.0.0:8080', ollamaUrl: 'http://0.0.0.0:11434' });
    snapshots.next(modelSnapshot({ state: 'ready' }));
    expect(lines[0]).toContain('listening on every interface');
    expect(lines).toContainEqual(expect.stringContaining('Ollama URL:       http://127.0.0.1:8080 and http://127.0.0.1:11434'));
    lines.length = 0;
    snapshots.next(modelSnapshot({ state: 'restarting' }));
    snapshots.next(modelSnapshot({ state: 'ready' }));
    expect(lines).toEqual(['ready again: the model is loaded']);
  });
});
