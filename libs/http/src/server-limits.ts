import type { Server } from 'node:http';

/** The listener's limits (config server.limits); each chosen, none left to Node's defaults. */
export interface ServerLimits {
  /** Time to receive a request's headers (slowloris); Node's default is 60 s. */
  headersTimeoutMs: number;
  /** Time to receive a whole request, body included (not the answer: streams are not cut); Node's default is 300 s. */
  requestTimeoutMs: number;
  /** A connection with no traffic either way for this long is closed (0 = never). */
  idleTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** Connections open at once; more are refused (closed at once). */
  maxConnections: number;
}

/** Applies the limits to one listener (the main port and the Ollama port alike), before it accepts connections. */
export function applyServerLimits(server: Server, limits: ServerLimits): void {
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxConnections = limits.maxConnections;
  server.setTimeout(limits.idleTimeoutMs);
}
