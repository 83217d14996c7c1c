import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, ConfigSources, loadAppConfig } from './config-loader';
import { findInstallRoot } from './install-root';

describe(loadAppConfig.name, () => {
  const defaultsFile = join(findInstallRoot(__dirname), 'config', 'default.yaml');
  const sources = (env: NodeJS.ProcessEnv = {}, cwd = '/srv/qwen'): ConfigSources => ({ env, cwd, defaultsFile });

  it('reads the documented defaults', () => {
    const config = loadAppConfig(sources());
    expect(config.server.host).toBe('127.0.0.1');
    expect(config.server.port).toBe(8080);
    expect(config.tokenizer.port).toBe(12345);
    expect(config.paths.modelDir).toBe('/srv/qwen/models/Qwen2.5-1.5B-Instruct-GPTQ-Int4');
    expect(config.paths.logDir).toBe('/srv/qwen/logs');
    expect(config.paths.runDir).toBe('/srv/qwen/run');
    expect(config.model.id).toBe('qwen2.5');
    expect(config.server.apiKeys).toEqual([]);
  });

  it('lets environment variables override the files', () => {
    const config = loadAppConfig(
      sources({
        QWEN_PORT: '9000',
        QWEN_HOST: '0.0.0.0',
        QWEN_MODEL_DIR: '/opt/model',
        QWEN_TOKENIZER_PORT: '23456',
        QWEN_LOG_DIR: '/var/log/qwen',
        QWEN_RUN_DIR: '/run/qwen',
        QWEN_API_KEYS: 'a, b,,c',
        QWEN_OLLAMA_LISTENER: 'true',
      }),
    );
    expect(config.server.port).toBe(9000);
    expect(config.server.host).toBe('0.0.0.0');
    expect(config.paths.modelDir).toBe('/opt/model');
    expect(config.paths.logDir).toBe('/var/log/qwen');
    expect(config.paths.runDir).toBe('/run/qwen');
    expect(config.tokenizer.port).toBe(23456);
    expect(config.server.apiKeys).toEqual(['a', 'b', 'c']);
    expect(config.server.ollamaListener.enabled).toBe(true);
  });

  it('merges the QWEN_CONFIG override file under the environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qwen-config-'));
    writeFileSync(join(dir, 'local.yaml'), 'server:\n  port: 8181\nmodel:\n  queueMaxLength: 3\n');
    const config = loadAppConfig(sources({ QWEN_CONFIG: 'local.yaml', QWEN_QUEUE_MAX: '4' }, dir));
    expect(config.server.port).toBe(8181);
    expect(config.server.host).toBe('127.0.0.1');
    expect(config.model.queueMaxLength).toBe(4);
  });

  it('names the key and the expectation when a value is bad', () => {
    expect(() => loadAppConfig(sources({ QWEN_PORT: 'eighty' }))).toThrow(/QWEN_PORT \(server.port\): must be a whole number/);
    expect(() => loadAppConfig(sources({ QWEN_PORT: '70000' }))).toThrow(/server\.port: .*not be greater than 65535/);
    expect(() => loadAppConfig(sources({ QWEN_TOKENIZER_MODE: 'rust' }))).toThrow(ConfigError);
    expect(() => loadAppConfig(sources({ QWEN_TOKENIZER_MODE: 'rust' }))).toThrow(/tokenizer\.mode: .*builtin, upstream/);
  });

  it('keeps the tokenizer on loopback: its port serves the runner only', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qwen-config-'));
    writeFileSync(join(dir, 'open.yaml'), 'tokenizer:\n  host: 0.0.0.0\n');
    expect(() => loadAppConfig(sources({ QWEN_CONFIG: 'open.yaml' }, dir))).toThrow(/tokenizer\.host: must be a loopback address/);
    writeFileSync(join(dir, 'v6.yaml'), 'tokenizer:\n  host: "::1"\n');
    expect(loadAppConfig(sources({ QWEN_CONFIG: 'v6.yaml' }, dir)).tokenizer.host).toBe('::1');
  });

  it('rejects unknown keys in an override file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qwen-config-'));
    writeFileSync(join(dir, 'bad.yaml'), 'server:\n  prot: 8181\n');
    expect(() => loadAppConfig(sources({ QWEN_CONFIG: 'bad.yaml' }, dir))).toThrow(/server\.prot: .*should not exist/);
  });

  it('reports a missing override file by name', () => {
    expect(() => loadAppConfig(sources({ QWEN_CONFIG: '/nonexistent/qwen.yaml' }))).toThrow(
      /cannot read the QWEN_CONFIG \/nonexistent\/qwen.yaml/,
    );
  });
});
