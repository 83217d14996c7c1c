import 'reflect-metadata';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';

/** The validated configuration of the whole service. See config/default.yaml for every key. */

export class OllamaListenerConfig {
  @IsBoolean() enabled!: boolean;
  @IsString() @IsNotEmpty() host!: string;
  @IsInt() @Min(1) @Max(65535) port!: number;
}

export class ServerConfig {
  @IsString() @IsNotEmpty() host!: string;
  @IsInt() @Min(1) @Max(65535) port!: number;
  @Matches(/^\d+(b|kb|mb)$/i, { message: 'must be a size such as 512kb or 1mb' }) bodyLimit!: string;
  @IsString({ each: true }) apiKeys!: string[];
  @IsString() adminToken!: string;
  @IsString({ each: true }) corsOrigins!: string[];
  @ValidateNested() @Type(() => OllamaListenerConfig) ollamaListener!: OllamaListenerConfig;
}

export class PathsConfig {
  @IsString() @IsNotEmpty() modelDir!: string;
  @IsString() @IsNotEmpty() logDir!: string;
  @IsString() @IsNotEmpty() runDir!: string;
}

export const TOKENIZER_MODES = ['builtin', 'upstream'] as const;
export type TokenizerMode = (typeof TOKENIZER_MODES)[number];

/** localhost, 127.x.x.x or ::1: the tokenizer's port serves the runner only, never the network. */
const LOOPBACK_HOST = /^(localhost|::1|127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/;

export class TokenizerConfig {
  @IsIn(TOKENIZER_MODES) mode!: TokenizerMode;
  @Matches(LOOPBACK_HOST, { message: 'host must be a loopback address (127.0.0.1, ::1 or localhost)' }) host!: string;
  @IsInt() @Min(1) @Max(65535) port!: number;
  @IsString() @IsNotEmpty() python!: string;
  @IsInt() @Min(100) startTimeoutMs!: number;
  @IsInt() @Min(50) healthIntervalMs!: number;
  @IsInt() @Min(10) healthTimeoutMs!: number;
  @IsInt() @Min(1) healthFailures!: number;
  @IsInt() @Min(10) requestTimeoutMs!: number;
  @IsInt() @Min(0) @Max(2000) restartInitialDelayMs!: number;
  @IsInt() @Min(0) restartMaxDelayMs!: number;
  @IsInt() @Min(1000) handleTtlMs!: number;
  @IsOptional() @IsString() defaultSystemPrompt!: string | null;
}

export const RUNNER_BINARIES = ['auto', 'main_axcl_aarch64', 'main_axcl_x86'] as const;
export type RunnerBinary = (typeof RUNNER_BINARIES)[number];

export class ModelConfig {
  @IsString() @IsNotEmpty() id!: string;
  @IsString({ each: true }) aliases!: string[];
  @IsBoolean() acceptAnyModelName!: boolean;
  @IsIn(RUNNER_BINARIES) runnerBinary!: RunnerBinary;
  @IsInt() @Min(100) loadTimeoutMs!: number;
  @IsInt() @Min(0) queueMaxLength!: number;
  @IsInt() @Min(1) queueMaxWaitMs!: number;
  @IsInt() @Min(1) requestTimeoutMs!: number;
  @IsInt() @Min(10) hangTimeoutMs!: number;
  @IsInt() @Min(0) prefillMsPerToken!: number;
  @IsInt() @Min(0) stopGraceMs!: number;
  @IsInt() @Min(0) restartInitialDelayMs!: number;
  @IsInt() @Min(0) restartMaxDelayMs!: number;
  @IsInt() @Min(1) maxConsecutiveFailures!: number;
}

export class NpuConfig {
  @IsString() @IsNotEmpty() smiPath!: string;
  @IsInt() @Min(10) timeoutMs!: number;
  @IsInt() @Min(0) cacheMs!: number;
}

export const LOG_LEVELS = ['error', 'warn', 'log', 'debug', 'verbose'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

export class LoggingConfig {
  @IsIn(LOG_LEVELS) level!: LogLevelName;
}

export class AppConfig {
  @ValidateNested() @Type(() => ServerConfig) server!: ServerConfig;
  @ValidateNested() @Type(() => PathsConfig) paths!: PathsConfig;
  @ValidateNested() @Type(() => TokenizerConfig) tokenizer!: TokenizerConfig;
  @ValidateNested() @Type(() => ModelConfig) model!: ModelConfig;
  @ValidateNested() @Type(() => NpuConfig) npu!: NpuConfig;
  @ValidateNested() @Type(() => LoggingConfig) logging!: LoggingConfig;
}
