import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { UI_CONTENT_SECURITY_POLICY, UiController } from './ui.controller';
import { UiModule } from './ui.module';

describe(UiController.name, () => {
  let app: INestApplication;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [UiModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  });
  afterAll(() => app.close());

  it('serves the page at /ui with the strict Content-Security-Policy, no inline script or style', async () => {
    const response = await request(app.getHttpServer()).get('/ui').expect(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.headers['content-security-policy']).toBe(UI_CONTENT_SECURITY_POLICY);
    expect(UI_CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(UI_CONTENT_SECURITY_POLICY).not.toMatch(/unsafe|https?:|\*/);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.text).toContain('<script type="module" src="/ui/app.js"></script>');
    expect(response.text).not.toMatch(/<script>|<style|style="|\son\w+=/i);
  });

  it('serves the assets with their types, gzip-compressed for clients that accept it, revalidated with an ETag', async () => {
    const js = await request(app.getHttpServer()).get('/ui/app.js').set('Accept-Encoding', 'gzip').expect(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['content-encoding']).toBe('gzip');
    expect(js.text).toContain('readServerSentEvents');
    const css = await request(app.getHttpServer()).get('/ui/app.css').set('Accept-Encoding', 'identity').expect(200);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(css.headers['content-encoding']).toBeUndefined();
    await request(app.getHttpServer()).get('/ui/app.css').set('Accept-Encoding', 'identity').set('If-None-Match', css.headers.etag).expect(304);
  });

  it.each(['secret.txt', '..%2Fui.module.ts', '..%2F..%2F..%2Fpackage.json', 'index.html'])('answers 404 for %s (only the page files are served)', async (name) => {
    await request(app.getHttpServer()).get(`/ui/${name}`).expect(404);
  });

  it('does not serve anything at / (the Ollama root stays with the chat module)', async () => {
    await request(app.getHttpServer()).get('/').expect(404);
  });
});
