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

/** The listeners' limits (docs/security.md): every timeout chosen, not Node's defaults. */
export class ServerLimitsConfig {
  @IsInt() @Min(1000) headersTimeoutMs!: number;
  @IsInt() @Min(1000) requestTimeoutMs!: number;
  @IsInt() @Min(0) idleTimeoutMs!: number;
  @IsInt() @Min(100) keepAliveTimeoutMs!: number;
  @Env('QWEN_MAX_CONNECTIONS', 'int') @IsInt() @Min(1) maxConnections!: number;
}

export class ServerConfig {
  @Env('QWEN_HOST') @IsString() @IsNotEmpty() host!: string;
  @Env('QWEN_PORT', 'int') @IsInt() @Min(1) @Max(65535) port!: number;
  @Env('QWEN_BODY_LIMIT') @Matches(/^\d+(b|kb|mb)$/i, { message: 'must be a size such as 512kb or 1mb' }) bodyLimit!: string;
  @Env('QWEN_API_KEYS', 'list') @IsString({ each: true }) apiKeys!: string[];
  @Env('QWEN_ADMIN_TOKEN') @IsString() adminToken!: string;
  @Env('QWEN_CORS_ORIGINS', 'list') @IsString({ each: true }) corsOrigins!: string[];
  /** Host names clients may use besides loopback names, IP addresses and this machine's name; "*" = any (docs/security.md). */
  @Env('QWEN_ALLOWED_HOSTS', 'list') @IsString({ each: true }) allowedHosts!: string[];
  @Section(() => OllamaListenerConfig) ollamaListener!: OllamaListenerConfig;
  @Section(() => ServerLimitsConfig) limits!: ServerLimitsConfig;
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
  /** Raw prompts (/api/generate raw, /v1/completions) may spell control tokens: trusted clients only (docs/security.md). */
  @Env('QWEN_RAW_PROMPT_SPECIAL_TOKENS', 'bool') @IsBoolean() rawPromptSpecialTokens!: boolean;
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
  /** Tokens of the window a prompt must leave for the answer; old turns are dropped to keep them (docs/conversations.md). */
  @Env('QWEN_ANSWER_RESERVE_TOKENS', 'int') @IsInt() @Min(1) answerReserveTokens!: number;
  /** Most prompt tokens wanted, a bound on time to first token (old turns are dropped to meet it); 0 = the whole window. */
  @Env('QWEN_PROMPT_BUDGET_TOKENS', 'int') @IsInt() @Min(0) promptBudgetTokens!: number;
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
  /** Keep the model's answers in model.log (tagged `answer|`); false keeps only the runner's own lines. */
  @Env('QWEN_MODEL_LOG_TEXT', 'bool') @IsBoolean() logModelText!: boolean;
}

const SAMPLING_SOURCES = ['model', 'config'] as const;
export type SamplingSource = (typeof SAMPLING_SOURCES)[number];

/**
 * The runner's sampling (its post_config.json, read once at load): `model` uses the model
 * repository's own file, `config` the values below (docs/configuration.md, "Sampling").
 */
export class SamplingConfig {
  @Env('QWEN_SAMPLING') @IsIn(SAMPLING_SOURCES) source!: SamplingSource;
  @IsBoolean() enableTemperature!: boolean;
  @IsNumber() @Min(0) temperature!: number;
  @IsBoolean() enableTopK!: boolean;
  @IsInt() @Min(1) topK!: number;
  @IsBoolean() enableTopP!: boolean;
  @IsNumber() @Min(0) @Max(1) topP!: number;
  @IsBoolean() enableRepetitionPenalty!: boolean;
  @IsNumber() @Min(0) repetitionPenalty!: number;
  @IsInt() @Min(1) penaltyWindow!: number;
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

/** The chat APIs' answers (tools, JSON modes) and what the Ollama dialect says of itself. */
export class ChatConfig {
  /** A JSON answer that does not validate is asked again with the error this many times, then answered as 400 json_validate_failed. */
  @IsInt() @Min(0) @Max(2) jsonRetries!: number;
  /** What GET /api/version answers (Ollama clients gate features on it: VS Code needs ≥ 0.6.4). */
  @Matches(/^\d+\.\d+\.\d+$/, { message: 'must be a version such as 0.6.4' }) ollamaVersion!: string;
}

export class AppConfig {
  @Section(() => ServerConfig) server!: ServerConfig;
  @Section(() => PathsConfig) paths!: PathsConfig;
  @Section(() => TokenizerConfig) tokenizer!: TokenizerConfig;
  @Section(() => ModelConfig) model!: ModelConfig;
  @Section(() => SamplingConfig) sampling!: SamplingConfig;
  @Section(() => NpuConfig) npu!: NpuConfig;
  @Section(() => LoggingConfig) logging!: LoggingConfig;
  @Section(() => ChatConfig) chat!: ChatConfig;
}
