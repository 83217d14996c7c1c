/**
 * The shipped nginx site (deploy/nginx/qwen-chat.conf, rendered with this test's loopback ports,
 * a throw-away certificate and a test API key) in front of one REAL service instance, driven by a
 * real nginx (Debian's /usr/sbin/nginx) in the foreground with its own prefix in a temp dir.
 * Requires `npm run build` and nginx, openssl.
 */
import { freePort, startTestService, TestService } from '@qwen/testing';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProxyProcess, renderShippedConfig } from './proxy-support';

jest.setTimeout(60000);

const SHIPPED = 'deploy/nginx/qwen-chat.conf';
const SERVER_NAME = 'qwen.example.lan';
const API_KEY = 'test-key-for-the-nginx-site';

describe('nginx site (deploy/nginx/qwen-chat.conf)', () => {
  let service: TestService;
  let nginx: ProxyProcess;
  let prefix: string;
  let tlsPort: number;
  let certificate: string;

  beforeAll(async () => {
    // 20 ms per token: a 30-fold answer streams for a few seconds.
    // nginx passes the site's name on as Host: the service must know it (server.allowedHosts, docs/security.md).
    service = await startTestService({ emulatorEnv: { QWEN_EMU_TOKEN_MS: '20' }, configure: (c) => (c.server.allowedHosts = [SERVER_NAME]) });
    prefix = mkdtempSync(join(tmpdir(), 'qwen-nginx-'));
    chmodSync(prefix, 0o755); // nginx's workers (nobody, when started as root) create temp files here
    const certFile = join(prefix, 'fullchain.pem');
    const keyFile = join(prefix, 'privkey.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${SERVER_NAME}`,
      '-addext', `subjectAltName=DNS:${SERVER_NAME}`, '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
    certificate = readFileSync(certFile, 'utf8');
    tlsPort = await freePort();
    const httpPort = await freePort();
    const site = renderShippedConfig(SHIPPED, [
      ['server 127.0.0.1:8080;', `server ${new URL(service.url).host};`],
      ['listen 80;', `listen 127.0.0.1:${httpPort};`],
      ['listen 443 ssl http2;', `listen 127.0.0.1:${tlsPort} ssl http2;`],
      [/^ *listen \[::\]:.*\n/gm, ''],
      ['/etc/ssl/qwen-chat/fullchain.pem', certFile],
      ['/etc/ssl/qwen-chat/privkey.pem', keyFile],
      ['Bearer CHANGE-ME-generate-a-long-random-key', `Bearer ${API_KEY}`],
    ]);
    writeFileSync(join(prefix, 'qwen-chat.conf'), site);
    // The site file goes inside http {}, as in /etc/nginx/sites-enabled; everything else stays in the prefix.
    writeFileSync(join(prefix, 'nginx.conf'), [
      `pid ${join(prefix, 'nginx.pid')};`,
      `error_log ${join(prefix, 'error.log')} notice;`,
      'events { worker_connections 64; }',
      'http {',
      `  access_log ${join(prefix, 'access.log')};`,
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `  ${kind}_temp_path ${join(prefix, kind)};`),
      `  include ${join(prefix, 'qwen-chat.conf')};`,
      '}',
      '',
    ].join('\n'));
    nginx = ProxyProcess.start('nginx', '/usr/sbin/nginx', ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-e', join(prefix, 'error.log'), '-g', 'daemon off;'], prefix);
    await nginx.waitForHttp(`http://127.0.0.1:${httpPort}/`, 301);
    expect((await send('GET', '/health')).status).toBe(200);
  });

  afterAll(async () => {
    await nginx?.stop();
    await service?.close();
    if (prefix) rmSync(prefix, { recursive: true, force: true });
  });

  /** One HTTPS request to nginx on loopback, verified against the test's certificate. */
  function open(method: string, path: string, body?: unknown, key: string | null = API_KEY): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = request({
        host: '127.0.0.1',
        port: tlsPort,
        servername: SERVER_NAME,
        ca: certificate,
        method,
        path,
        headers: {
          host: SERVER_NAME,
          ...(key ? { authorization: `Bearer ${key}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
      }, resolve);
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  async function send(method: string, path: string, body?: unknown, key?: string | null): Promise<{ status: number; body: string }> {
    const res = await open(method, path, body, key);
    let text = '';
    for await (const chunk of res) text += (chunk as Buffer).toString('utf8');
    return { status: res.statusCode ?? 0, body: text };
  }

  it.each([
    ['/admin/reload'],
    ['/ADMIN/reload'],
    ['/Admin/shutdown'],
    ['/aDmIn/shutdown?force=true'],
    ['/%61dmin/reload'],
    ['//admin/reload'],
    ['/v1/../admin/reload'],
  ])('POST %s is refused by nginx (403), even with a valid API key, and never reaches the service', async (path) => {
    const loadsBefore = service.model.snapshot().loads;
    const res = await send('POST', path);
    expect(res.status).toBe(403);
    // nginx's own 403 page, not the service's admin error (which is JSON with code "forbidden").
    expect(res.body).toContain('nginx');
    expect(service.model.snapshot()).toMatchObject({ state: 'ready', loads: loadsBefore });
  });

  it('without a valid API key, the API answers 401 in the OpenAI error shape', async () => {
    const res = await send('GET', '/v1/models', undefined, null);
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'invalid_api_key' } });
    expect((await send('GET', '/v1/models')).status).toBe(200);
  });

  it('a streamed chat completion flows chunk by chunk: the first text arrives while the rest is still being generated', async () => {
    const content = 'streamed through nginx. ';
    writeFileSync(service.faultFile, JSON.stringify({ repeat: 30 }));
    const res = await open('POST', '/v1/chat/completions', { model: 'qwen2.5', messages: [{ role: 'user', content }], stream: true });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    let raw = '';
    let stateAtFirstText: string | null = null;
    let reads = 0;
    for await (const chunk of res) {
      raw += (chunk as Buffer).toString('utf8');
      reads += 1;
      if (stateAtFirstText === null && raw.includes('"content":"')) stateAtFirstText = service.model.snapshot().state;
    }
    // The runner was still generating when the client already had text (30 x ~6 tokens x 20 ms ≈ 3.6 s).
    expect(stateAtFirstText).toBe('busy');
    expect(reads).toBeGreaterThan(10);
    const text = raw
      .split('\n')
      .filter((line) => line.startsWith('data: {'))
      .map((line) => (JSON.parse(line.slice(6)) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? '')
      .join('');
    expect(text).toBe(content.repeat(30));
    expect(raw).toContain('data: [DONE]');
  });
});
