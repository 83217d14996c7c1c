import { Controller, Get, Global, Injectable, Logger, Module } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { MetricsService, RequestObservation } from '@qwen/health';
import request from 'supertest';
import { CurrentRequest } from './current-request.decorator';
import { ErrorAnswer, RegisteredErrorDialect } from './error-dialects';
import { applyHttpEdge } from './http-edge';
import { HttpEdgeModule } from './http-edge.module';
import { RequestContext } from './request-context';
import { RequestContexts } from './request-contexts';

class Refused extends Error {}

@Injectable()
class TeapotDialect extends RegisteredErrorDialect {
  readonly name = 'teapot';
  readonly mount = '/tea';
  answer(error: unknown): ErrorAnswer {
    return error instanceof Refused
      ? { status: 418, headers: { 'Retry-After': '7' }, body: { teapot: 'refused' }, kind: 'refused' }
      : { status: 500, headers: {}, body: { teapot: 'broken' }, kind: 'broken' };
  }
}

@Controller()
class ProbeController {
  @Get('plain')
  plain(@CurrentRequest() context: RequestContext) {
    return { id: context.requestId, dialect: context.dialect };
  }

  @Get('tea/cup')
  cup(@CurrentRequest() context: RequestContext): never {
    context.stats.promptTokens = 3;
    throw new Refused('no');
  }
}

describe(RequestContexts.name, () => {
  let app: NestExpressApplication;
  let observations: RequestObservation[];
  let lines: Array<[level: string, line: string]>;

  beforeEach(async () => {
    observations = [];
    lines = [];
    for (const level of ['log', 'warn', 'debug'] as const) {
      (jest.spyOn(Logger.prototype, level) as jest.SpyInstance).mockImplementation(function (this: Logger, message: unknown) {
        if ((this as unknown as { context?: string }).context === 'HttpRequests') lines.push([level, String(message)]);
      });
    }
    @Global()
    @Module({ providers: [{ provide: MetricsService, useValue: { observeRequest: (o: RequestObservation) => void observations.push(o) } }], exports: [MetricsService] })
    class FakeMetricsModule {}
    const moduleRef = await Test.createTestingModule({
      imports: [FakeMetricsModule, HttpEdgeModule],
      controllers: [ProbeController],
      providers: [TeapotDialect],
    }).compile();
    app = moduleRef.createNestApplication<NestExpressApplication>({ bodyParser: false, logger: false });
    applyHttpEdge(app, { bodyLimit: '1kb', corsOrigins: [] });
    await app.listen(0, '127.0.0.1');
  });

  afterEach(async () => {
    await app.close();
    jest.restoreAllMocks();
  });

  async function waitForLines(n: number): Promise<void> {
    while (lines.length < n) await new Promise((resolve) => setImmediate(resolve));
  }

  it('gives every route a context and an X-Request-Id; outside a dialect: a debug line, not counted', async () => {
    const res = await request(app.getHttpServer()).get('/plain').expect(200);
    expect(res.headers['x-request-id']).toMatch(/^[0-9A-Za-z]{24}$/);
    expect(res.body).toEqual({ id: res.headers['x-request-id'], dialect: null });
    await waitForLines(1);
    // Only what applies: a request that never reached the model has no queue/prompt/completion/ttft fields.
    expect(lines).toEqual([['debug', expect.stringMatching(new RegExp(`^GET /plain 200 id=${res.headers['x-request-id']} total=\\d+ms$`))]]);
    expect(observations).toEqual([]);
  });

  it("answers a dialect's errors from its table, logs the kind once and counts the request", async () => {
    const res = await request(app.getHttpServer()).get('/tea/cup').expect(418);
    expect(res.body).toEqual({ teapot: 'refused' });
    expect(res.headers['retry-after']).toBe('7');
    await waitForLines(1);
    expect(lines).toEqual([['log', expect.stringMatching(/^GET \/tea\/cup 418 id=\S+ queue=- prompt=3 .* error=refused$/)]]);
    expect(observations).toEqual([expect.objectContaining({ route: 'GET /tea/cup', status: 418, dialect: 'teapot', promptTokens: 3 })]);
  });

  it("answers the dialect's unknown routes and body-parser errors with its table too", async () => {
    const missing = await request(app.getHttpServer()).get('/tea/pot').expect(500);
    expect(missing.body).toEqual({ teapot: 'broken' });
    const tooLarge = await request(app.getHttpServer()).post('/tea/cup').set('Content-Type', 'application/json').send(JSON.stringify({ x: 'y'.repeat(2048) }));
    expect(tooLarge.body).toEqual({ teapot: 'broken' });
    await waitForLines(2);
    expect(observations.map((o) => [o.route, o.dialect])).toEqual([
      ['GET unmatched', 'teapot'],
      ['POST unmatched', 'teapot'],
    ]);
  });
});
