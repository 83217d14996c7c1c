import request from 'supertest';
import type { App } from 'supertest/types';
import { ChatTestApp, createChatTestApp } from '../../../../test/doubles/chat';
import { ApiKeyGuard } from './api-key.guard';

describe(ApiKeyGuard.name, () => {
  let t: ChatTestApp;
  afterEach(() => t.close());

  const chat = { model: 'qwen2.5', messages: [{ role: 'user', content: 'hi' }] };

  it('accepts any key, or none, when no keys are configured', async () => {
    t = await createChatTestApp({ apiKeys: [] });
    const server = t.app.getHttpServer() as App;
    await request(server).post('/v1/chat/completions').send(chat).expect(200);
    await request(server).post('/v1/chat/completions').set('Authorization', 'Bearer sk-anything').send(chat).expect(200);
  });

  describe('with keys configured', () => {
    beforeEach(async () => {
      t = await createChatTestApp({ apiKeys: ['sk-one', 'sk-two'] });
    });

    it.each([
      ['no header', undefined, /didn't provide an API key/],
      ['a wrong key', 'Bearer sk-three', /Incorrect API key/],
      ['not Bearer', 'Basic c2stb25l', /didn't provide an API key/],
    ])('refuses %s with 401 invalid_api_key, before the model is asked', async (_what, header, message) => {
      const server = t.app.getHttpServer() as App;
      const req = request(server).post('/v1/chat/completions');
      if (header) req.set('Authorization', header);
      const res = await req.send(chat).expect(401);
      expect(res.body).toEqual({ error: { message: expect.stringMatching(message), type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
      expect(JSON.stringify(res.body)).not.toMatch(/sk-/);
      expect(t.model.requests).toHaveLength(0);
      await request(server).get('/v1/models').set('Authorization', header ?? '').expect(401);
    });

    it('accepts every configured key', async () => {
      const server = t.app.getHttpServer() as App;
      await request(server).post('/v1/chat/completions').set('Authorization', 'Bearer sk-one').send(chat).expect(200);
      await request(server).get('/v1/models').set('Authorization', 'bearer sk-two').expect(200);
    });
  });
});
