import 'reflect-metadata';
import { ConfigError, ConfigSources, findInstallRoot, loadAppConfig } from '@qwen/config';
import { join } from 'node:path';
import { startQwenApp } from './app.factory';

async function main(): Promise<void> {
  const sources: ConfigSources = {
    env: process.env,
    cwd: process.cwd(),
    defaultsFile: join(findInstallRoot(__dirname), 'config', 'default.yaml'),
  };
  let config;
  try {
    config = loadAppConfig(sources);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`qwen-chat: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const { url, ollamaUrl } = await startQwenApp(config, sources);
  process.stdout.write(
    `qwen-chat listening on ${url}${ollamaUrl ? ` and ${ollamaUrl} (Ollama port)` : ''}; not ready yet: the model is loading (requests get 503 until "READY")\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`qwen-chat: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
