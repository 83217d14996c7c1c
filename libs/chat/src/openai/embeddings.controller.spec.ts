import request from 'supertest';
import type { App } from 'supertest/types';
import { ChatTestApp, createChatTestApp } from '../../../../test/doubles/chat';
import { EmbeddingsController } from './embeddings.controller';

describe(EmbeddingsController.name, () => {
  let t: ChatTestApp;
  afterEach(() => t.close());

  it("answers 501 in OpenAI's shape, saying why, like /api/embed", async () => {
    t = await createChatTestApp();
    const server = t.app.getHttpServer() as App;
    const res = await request(server).post('/v1/embeddings').send({ model: 'text-embedding-3-small', input: 'hello' }).expect(501);
    expect(res.body).toEqual({
      error: { message: expect.stringMatching(/^embeddings are not supported: .*no embedding model$/), type: 'invalid_request_error', param: null, code: 'not_implemented' },
    });
    const ollama = await request(server).post('/api/embed').send({ model: 'qwen2.5', input: 'hello' }).expect(501);
    expect(ollama.body.error).toMatch(/^embeddings are not supported/);
    expect(t.model.requests).toHaveLength(0);
  });

  it('keeps the API key rule of /v1', async () => {
    t = await createChatTestApp({ apiKeys: ['k1'] });
    const res = await request(t.app.getHttpServer() as App).post('/v1/embeddings').send({ input: 'x' }).expect(401);
    expect(res.body.error.code).toBe('invalid_api_key');
  });
});
