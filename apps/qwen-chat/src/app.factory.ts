import { LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { ApplicationCloser } from '@qwen/admin';
import { applyHttpEdge, applyServerLimits } from '@qwen/http';
import { AppConfig, ConfigSources, LogLevelName } from '@qwen/config';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { AppModule } from './app.module';
import { ReadinessAnnouncer } from './readiness-announcer';
import { ServiceLogger } from './service-logger';

const LEVELS: LogLevelName[] = ['error', 'warn', 'log', 'debug', 'verbose'];

function logLevelsUpTo(level: LogLevelName): LogLevel[] {
  return LEVELS.slice(0, LEVELS.indexOf(level) + 1) as LogLevel[];
}

export interface QwenApp {
  app: NestExpressApplication;
  /** Base URL of the main listener, e.g. http://127.0.0.1:8080 */
  url: string;
  /** Base URL of the Ollama-port listener when enabled. */
  ollamaUrl: string | null;
  close(): Promise<void>;
}

/** Builds and starts the service. Used by main.ts and by the end-to-end tests. */
export async function startQwenApp(
  config: AppConfig,
  sources: ConfigSources,
  options: { logger?: LogLevel[] | false; runnerEnv?: Record<string, string> } = {},
): Promise<QwenApp> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(config, sources, { runnerEnv: options.runnerEnv }), {
    // Tests pass their own levels (or false); the service logs through ServiceLogger.
    logger: options.logger ?? new ServiceLogger(logLevelsUpTo(config.logging.level)),
    bodyParser: false,
  });
  const { server } = config;
  // routing, request contexts, Host/Origin check (the bind addresses are allowed Host names), JSON limits, CORS allow-list
  applyHttpEdge(app, { ...server, allowedHosts: [...server.allowedHosts, server.host, server.ollamaListener.host] });
  app.enableShutdownHooks();
  app.set('trust proxy', 'loopback');
  app.disable('x-powered-by');
  applyServerLimits(app.getHttpServer() as Server, server.limits);
  await app.listen(config.server.port, config.server.host);
  const url = addressUrl(app.getHttpServer() as Server);

  let ollamaServer: Server | null = null;
  if (config.server.ollamaListener.enabled) {
    const listener = config.server.ollamaListener;
    ollamaServer = createServer(app.getHttpAdapter().getInstance());
    applyServerLimits(ollamaServer, server.limits);
    await new Promise<void>((resolve, reject) => {
      ollamaServer!.once('error', reject);
      ollamaServer!.listen(listener.port, listener.host, () => resolve());
    });
  }
  let closing: Promise<void> | null = null;
  const qwenApp: QwenApp = {
    app,
    url,
    ollamaUrl: ollamaServer ? addressUrl(ollamaServer) : null,
    // Idempotent: POST /admin/shutdown closes the app, and its caller may close it again.
    close() {
      closing ??= (async () => {
        if (ollamaServer) await new Promise<void>((resolve) => ollamaServer!.close(() => resolve()));
        await app.close();
      })();
      return closing;
    },
  };
  app.get(ApplicationCloser).attach(() => qwenApp.close()); // what POST /admin/shutdown closes
  app.get(ReadinessAnnouncer).follow({ url: qwenApp.url, ollamaUrl: qwenApp.ollamaUrl }); // "ready" only once the model is
  return qwenApp;
}

function addressUrl(server: Server): string {
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}
