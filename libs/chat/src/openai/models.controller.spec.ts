import request from 'supertest';
import type { App } from 'supertest/types';
import { ChatTestApp, createChatTestApp } from '../../../../test/doubles/chat';
import { ModelsController } from './models.controller';

describe(ModelsController.name, () => {
  let t: ChatTestApp;
  afterEach(() => t.close());

  it('lists the configured model', async () => {
    t = await createChatTestApp();
    const res = await request(t.app.getHttpServer() as App).get('/v1/models').expect(200);
    expect(res.body).toEqual({ object: 'list', data: [{ id: 'qwen2.5', object: 'model', created: expect.any(Number), owned_by: 'qwen-chat' }] });
  });

  it.each(['qwen2.5', 'Qwen/Qwen2.5-1.5B-Instruct', 'Qwen%2FQwen2.5-1.5B-Instruct', 'qwen2.5:1.5b'])('retrieves %s (ids with / and :)', async (id) => {
    t = await createChatTestApp({ acceptAnyModelName: false });
    const res = await request(t.app.getHttpServer() as App).get(`/v1/models/${id}`).expect(200);
    expect(res.body).toMatchObject({ id: 'qwen2.5', object: 'model' });
  });

  it('answers 404 model_not_found for an unknown name when any-name is off', async () => {
    t = await createChatTestApp({ acceptAnyModelName: false });
    const server = t.app.getHttpServer() as App;
    const res = await request(server).get('/v1/models/gpt-4o').expect(404);
    expect(res.body).toEqual({ error: { message: "The model 'gpt-4o' does not exist", type: 'invalid_request_error', param: 'model', code: 'model_not_found' } });
    const chat = await request(server)
      .post('/v1/chat/completions')
      .send({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
      .expect(404);
    expect(chat.body.error.code).toBe('model_not_found');
    expect(t.model.requests).toHaveLength(0);
  });

  it('maps any name to the configured id when any-name is on', async () => {
    t = await createChatTestApp({ acceptAnyModelName: true });
    const server = t.app.getHttpServer() as App;
    await request(server).get('/v1/models/gpt-4o').expect(200);
    const chat = await request(server)
      .post('/v1/chat/completions')
      .send({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
      .expect(200);
    expect(chat.body.model).toBe('qwen2.5');
  });
});
