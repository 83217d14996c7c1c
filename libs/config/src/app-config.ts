import 'reflect-metadata';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
} from 'class-validator';
import { Env, Section } from './env-binding';

/**
 * The validated configuration of the whole service. See config/default.yaml for every key. The
 * environment variable overriding a key is declared next to it with @Env (and nowhere else).
 */

export class OllamaListenerConfig {
  @Env('QWEN_OLLAMA_LISTENER', 'bool') @IsBoolean() enabled!: boolean;
  @Env('QWEN_OLLAMA_HOST') @IsString() @IsNotEmpty() host!: string;
  @Env('QWEN_OLLAMA_PORT', 'int') @IsInt() @Min(1) @Max(65535) port!: number;
}

export class ServerConfig {
  @Env('QWEN_HOST') @IsString() @IsNotEmpty() host!: string;
  @Env('QWEN_PORT', 'int') @IsInt() @Min(1) @Max(65535) port!: number;
  @Env('QWEN_BODY_LIMIT') @Matches(/^\d+(b|kb|mb)$/i, { message: 'must be a size such as 512kb or 1mb' }) bodyLimit!: string;
  @Env('QWEN_API_KEYS', 'list') @IsString({ each: true }) apiKeys!: string[];
  @Env('QWEN_ADMIN_TOKEN') @IsString() adminToken!: string;
  @Env('QWEN_CORS_ORIGINS', 'list') @IsString({ each: true }) corsOrigins!: string[];
  @Section(() => OllamaListenerConfig) ollamaListener!: OllamaListenerConfig;
}

export class PathsConfig {
  @Env('QWEN_MODEL_DIR') @IsString() @IsNotEmpty() modelDir!: string;
  @Env('QWEN_LOG_DIR') @IsString() @IsNotEmpty() logDir!: string;
  @Env('QWEN_RUN_DIR') @IsString() @IsNotEmpty() runDir!: string;
}

const TOKENIZER_MODES = ['builtin', 'upstream'] as const;
export type TokenizerMode = (typeof TOKENIZER_MODES)[number];

/** localhost, 127.x.x.x or ::1: the tokenizer's port serves the runner only, never the network. */
const LOOPBACK_HOST = /^(localhost|::1|127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/;

export class TokenizerConfig {
  @Env('QWEN_TOKENIZER_MODE') @IsIn(TOKENIZER_MODES) mode!: TokenizerMode;
  @Matches(LOOPBACK_HOST, { message: 'host must be a loopback address (127.0.0.1, ::1 or localhost)' }) host!: string;
  @Env('QWEN_TOKENIZER_PORT', 'int') @IsInt() @Min(1) @Max(65535) port!: number;
  @Env('QWEN_TOKENIZER_PYTHON') @IsString() @IsNotEmpty() python!: string;
  @IsInt() @Min(100) startTimeoutMs!: number;
  @IsInt() @Min(50) healthIntervalMs!: number;
  @IsInt() @Min(10) healthTimeoutMs!: number;
  @IsInt() @Min(1) healthFailures!: number;
  @IsInt() @Min(10) requestTimeoutMs!: number;
  @IsInt() @Min(0) @Max(2000) restartInitialDelayMs!: number;
  @IsInt() @Min(0) restartMaxDelayMs!: number;
  @IsInt() @Min(1000) handleTtlMs!: number;
  @Env('QWEN_DEFAULT_SYSTEM_PROMPT', 'nullable-string') @IsOptional() @IsString() defaultSystemPrompt!: string | null;
}

const RUNNER_BINARIES = ['auto', 'main_axcl_aarch64', 'main_axcl_x86'] as const;
export type RunnerBinary = (typeof RUNNER_BINARIES)[number];

export class ModelConfig {
  @Env('QWEN_MODEL_ID') @IsString() @IsNotEmpty() id!: string;
  @IsString({ each: true }) aliases!: string[];
  @Env('QWEN_ACCEPT_ANY_MODEL', 'bool') @IsBoolean() acceptAnyModelName!: boolean;
  @Env('QWEN_RUNNER_BINARY') @IsIn(RUNNER_BINARIES) runnerBinary!: RunnerBinary;
  @IsInt() @Min(100) loadTimeoutMs!: number;
  @Env('QWEN_QUEUE_MAX', 'int') @IsInt() @Min(0) queueMaxLength!: number;
  @IsInt() @Min(1) queueMaxWaitMs!: number;
  @IsInt() @Min(1) requestTimeoutMs!: number;
  @IsInt() @Min(10) hangTimeoutMs!: number;
  @IsInt() @Min(0) prefillMsPerToken!: number;
  /** Progress of a waiting request (stream comments) every this many ms. */
  @IsInt() @Min(100) progressIntervalMs!: number;
  /** The runner's token/s for estimates until its first footer measured it. */
  @IsNumber() @Min(0.1) assumedTokensPerSecond!: number;
  /** A non-streamed request that would wait longer than this before reaching the runner is refused (503 + Retry-After). */
  @IsInt() @Min(0) nonStreamedMaxWaitMs!: number;
  @IsInt() @Min(0) stopGraceMs!: number;
  @IsInt() @Min(0) restartInitialDelayMs!: number;
  @IsInt() @Min(0) restartMaxDelayMs!: number;
  @IsInt() @Min(1) maxConsecutiveFailures!: number;
}

export class NpuConfig {
  @Env('QWEN_AXCL_SMI') @IsString() @IsNotEmpty() smiPath!: string;
  @IsInt() @Min(10) timeoutMs!: number;
  @IsInt() @Min(0) cacheMs!: number;
}

const LOG_LEVELS = ['error', 'warn', 'log', 'debug', 'verbose'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

export class LoggingConfig {
  @Env('QWEN_LOG_LEVEL') @IsIn(LOG_LEVELS) level!: LogLevelName;
}

export class AppConfig {
  @Section(() => ServerConfig) server!: ServerConfig;
  @Section(() => PathsConfig) paths!: PathsConfig;
  @Section(() => TokenizerConfig) tokenizer!: TokenizerConfig;
  @Section(() => ModelConfig) model!: ModelConfig;
  @Section(() => NpuConfig) npu!: NpuConfig;
  @Section(() => LoggingConfig) logging!: LoggingConfig;
}
