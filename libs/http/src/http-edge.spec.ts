import request from 'supertest';
import type { App } from 'supertest/types';
import { applyHttpEdge } from './http-edge';
import { createChatTestApp, type ChatTestApp } from '../../../test/doubles/chat';

const CHAT = { model: 'qwen2.5', messages: [{ role: 'user', content: 'hi' }], stream: false };

describe(applyHttpEdge.name, () => {
  let t: ChatTestApp;
  let server: App;
  beforeAll(async () => {
    t = await createChatTestApp({ corsOrigins: ['http://localhost'] });
    server = t.app.getHttpServer() as App;
  });
  afterAll(() => t.close());

  it('refuses a cross-site request with 403 in each dialect’s shape, before the model sees it', async () => {
    const openai = await request(server)
      .post('/v1/chat/completions')
      .set('Origin', 'https://evil.example')
      .set('Content-Type', 'text/plain')
      .send(JSON.stringify(CHAT))
      .expect(403);
    expect(openai.body).toEqual({ error: { message: expect.stringMatching(/evil\.example/), type: 'invalid_request_error', param: null, code: null } });
    const ollama = await request(server).post('/api/chat').set('Origin', 'https://evil.example').send(CHAT).expect(403);
    expect(ollama.body).toEqual({ error: expect.stringMatching(/evil\.example/) });
    expect(t.model.requests).toHaveLength(0);
  });

  it('refuses a rebinding Host with 403, and serves its own origin and the configured ones', async () => {
    const rebound = await request(server).get('/v1/models').set('Host', 'attacker.example:8080').expect(403);
    expect(rebound.body.error.message).toMatch(/Host header "attacker\.example:8080"/);
    await request(server).get('/api/tags').set('Host', 'attacker.example').expect(403);
    await request(server).get('/v1/models').set('Host', 'localhost:8080').set('Origin', 'http://localhost:8080').expect(200);
    await request(server).post('/api/chat').set('Origin', 'http://localhost:5173').send(CHAT).expect(200);
  });

  it('routes strictly and case-sensitively', async () => {
    await request(server).get('/v1/models').expect(200);
    await request(server).get('/V1/models').expect(404);
    await request(server).get('/v1/MODELS').expect(404);
    await request(server).get('/v1/models/').expect(404);
  });

  it('applies the JSON depth limit to Ollama bodies sent as text/plain (a 400, never a 500)', async () => {
    const deep = `{"model":"qwen2.5","messages":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    const res = await request(server).post('/api/chat').set('Content-Type', 'text/plain').send(deep).expect(400);
    expect(res.body).toEqual({ error: expect.stringMatching(/nested deeper than 64/) });
  });
});
