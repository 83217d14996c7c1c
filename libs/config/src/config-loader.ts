import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import { AppConfig } from './app-config';
import { EnvBinding, EnvKind, envBindings } from './env-binding';

/** A configuration problem the operator must fix; its message names the key. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Plain = Record<string, unknown>;

/** Environment variables and the key each one overrides, as declared with @Env in app-config.ts. */
export const ENV_BINDINGS: readonly EnvBinding[] = envBindings(AppConfig);

export interface ConfigSources {
  /** The environment to read QWEN_* overrides from (normally process.env). */
  env: NodeJS.ProcessEnv;
  /** The directory relative paths are resolved against (normally process.cwd()). */
  cwd: string;
  /** The defaults file; normally config/default.yaml of the installation. */
  defaultsFile: string;
}

/** Reads defaults, the QWEN_CONFIG override file and the environment, then validates once. */
export function loadAppConfig(sources: ConfigSources): AppConfig {
  const merged = readYaml(sources.defaultsFile, 'defaults file');
  const overrideFile = sources.env.QWEN_CONFIG;
  if (overrideFile) {
    deepMerge(merged, readYaml(resolve(sources.cwd, overrideFile), 'QWEN_CONFIG'));
  }
  for (const { env, key, kind } of ENV_BINDINGS) {
    const raw = sources.env[env];
    if (raw !== undefined) setPath(merged, key, fromEnv(raw, kind, env, key));
  }
  const config = validateAppConfig(merged);
  config.paths.modelDir = absolute(sources.cwd, config.paths.modelDir);
  config.paths.logDir = absolute(sources.cwd, config.paths.logDir);
  config.paths.runDir = absolute(sources.cwd, config.paths.runDir);
  return config;
}

/** Validates a plain object as AppConfig; the error names every bad key and what was expected. */
function validateAppConfig(plain: Plain): AppConfig {
  const config = plainToInstance(AppConfig, plain, { enableImplicitConversion: false });
  const errors = validateSync(config, { whitelist: true, forbidNonWhitelisted: true });
  if (errors.length > 0) {
    throw new ConfigError(`invalid configuration:\n${flatten(errors).map((l) => `  - ${l}`).join('\n')}`);
  }
  return config;
}

function flatten(errors: ValidationError[], prefix = ''): string[] {
  const lines: string[] = [];
  for (const error of errors) {
    const key = prefix ? `${prefix}.${error.property}` : error.property;
    if (error.constraints) {
      const shown = JSON.stringify(error.value);
      for (const message of Object.values(error.constraints)) {
        lines.push(`${key}: ${message.replace(/^\S+ /, '')} (got ${shown === undefined ? 'nothing' : shown})`);
      }
    }
    if (error.children?.length) lines.push(...flatten(error.children, key));
  }
  return lines;
}

function readYaml(file: string, what: string): Plain {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read the ${what} ${file}: ${(err as Error).message}`);
  }
  try {
    const parsed: unknown = parse(text);
    if (parsed === null || parsed === undefined) return {};
    if (typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new Error('the top level must be a mapping of keys');
    }
    return parsed as Plain;
  } catch (err) {
    throw new ConfigError(`the ${what} ${file} is not valid YAML: ${(err as Error).message}`);
  }
}

function deepMerge(target: Plain, source: Plain): void {
  for (const [key, value] of Object.entries(source)) {
    const current = target[key];
    if (isMapping(value) && isMapping(current)) deepMerge(current, value);
    else target[key] = value;
  }
}

function isMapping(value: unknown): value is Plain {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function setPath(target: Plain, key: string, value: unknown): void {
  const parts = key.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    if (!isMapping(node[part])) node[part] = {};
    node = node[part] as Plain;
  }
  node[parts[parts.length - 1]] = value;
}

function fromEnv(raw: string, kind: EnvKind, env: string, key: string): unknown {
  switch (kind) {
    case 'int':
      if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(`${env} (${key}): must be a whole number (got "${raw}")`);
      return Number(raw.trim());
    case 'bool':
      if (/^(1|true|yes|on)$/i.test(raw.trim())) return true;
      if (/^(0|false|no|off|)$/i.test(raw.trim())) return false;
      throw new ConfigError(`${env} (${key}): must be true or false (got "${raw}")`);
    case 'list':
      return raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    case 'nullable-string':
      return raw === '' ? null : raw;
    default:
      return raw;
  }
}

function absolute(cwd: string, path: string): string {
  return isAbsolute(path) ? path : resolve(cwd, path);
}
