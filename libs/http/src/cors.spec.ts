import request from 'supertest';
import type { App } from 'supertest/types';
import { isOriginAllowed } from './cors';
import { createChatTestApp } from '../../../test/doubles/chat';

describe('CORS of the HTTP edge', () => {
  describe(isOriginAllowed.name, () => {
    const list = ['http://localhost', 'https://127.0.0.1', 'app://*', 'https://*.example.com'];
    it.each([
      ['http://localhost', true],
      ['http://localhost:3000', true],
      ['https://127.0.0.1:8443', true],
      ['app://obsidian.md', true],
      ['https://chat.example.com', true],
      ['http://localhost.evil.com', false],
      ['http://localhost:3000.evil.com', false],
      ['https://example.com.evil.org', false],
      ['https://evil.com', false],
      ['http://127.0.0.1', false],
    ])('%s → %s', (origin, allowed) => {
      expect(isOriginAllowed(origin, list)).toBe(allowed);
    });

    it('allows anything with "*"', () => {
      expect(isOriginAllowed('https://anywhere.net', ['*'])).toBe(true);
    });
  });

  it('answers a preflight from an allowed origin with Authorization, Content-Type and x-stainless-* allowed', async () => {
    const t = await createChatTestApp({ corsOrigins: ['http://localhost'] });
    try {
      const server = t.app.getHttpServer() as App;
      const res = await request(server)
        .options('/v1/chat/completions')
        .set('Origin', 'http://localhost:5173')
        .set('Access-Control-Request-Method', 'POST')
        .set('Access-Control-Request-Headers', 'authorization, content-type, x-stainless-os, x-stainless-retry-count, x-evil')
        .expect(204);
      expect(res.headers['access-control-allow-origin']).toBe('http://localhost:5173');
      const allowed = String(res.headers['access-control-allow-headers']).split(',');
      expect(allowed).toEqual(expect.arrayContaining(['authorization', 'content-type', 'x-stainless-os', 'x-stainless-retry-count']));
      expect(allowed).not.toContain('x-evil');

      const refused = await request(server).options('/v1/chat/completions').set('Origin', 'https://evil.com').set('Access-Control-Request-Method', 'POST');
      expect(refused.headers['access-control-allow-origin']).toBeUndefined();

      const simple = await request(server).get('/v1/models').set('Origin', 'http://localhost').expect(200);
      expect(simple.headers['access-control-allow-origin']).toBe('http://localhost');
      expect(simple.headers['access-control-expose-headers']).toMatch(/X-Qwen-Sampling/);
    } finally {
      await t.close();
    }
  });
});
