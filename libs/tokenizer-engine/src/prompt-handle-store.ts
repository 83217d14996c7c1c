import { randomBytes } from 'node:crypto';
import type { Clock } from '@qwen/supervision';

/** What a handle stands for: the registered prompt ids and its output limit. */
export interface PromptEntry {
  ids: number[];
  promptTokens: number;
  maxTokens: number;
  contextWindow: number;
}

export interface StoredPrompt extends PromptEntry {
  handle: string;
  expiresAt: number;
}

export interface PromptHandleStoreOptions {
  /** Handles expire this long after registration. */
  ttlMs: number;
  /** At most this many live handles; the oldest is evicted first. */
  maxEntries?: number;
  /** The time source (only its now() is read; type-only, so the tokenizer process loads no Nest code). */
  clock?: Pick<Clock, 'now'>;
  /** Source of random bytes (tests may make it deterministic). */
  random?: (size: number) => Buffer;
}

export const PROMPT_HANDLE_PREFIX = 'qh-';
/** 16 random bytes → 22 base64url characters (128 bits). */
const HANDLE_RANDOM_BYTES = 16;
export const PROMPT_HANDLE_PATTERN = /^qh-[A-Za-z0-9_-]{22}$/;

/**
 * Registered prompts by handle: `qh-` + 22 base64url characters from crypto random — single line,
 * unguessable, never the runner's `q` command. Single use, time-limited, bounded in size.
 */
export class PromptHandleStore {
  /** Insertion order = age order (a Map iterates in insertion order). */
  private readonly entries = new Map<string, StoredPrompt>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly clock: Pick<Clock, 'now'>;
  private readonly random: (size: number) => Buffer;

  constructor(options: PromptHandleStoreOptions) {
    this.ttlMs = options.ttlMs;
    this.maxEntries = options.maxEntries ?? 256;
    this.clock = options.clock ?? { now: () => Date.now() };
    this.random = options.random ?? randomBytes;
  }

  get size(): number {
    return this.entries.size;
  }

  register(entry: PromptEntry): StoredPrompt {
    this.purgeExpired();
    let handle = this.newHandle();
    while (this.entries.has(handle)) handle = this.newHandle();
    const stored: StoredPrompt = { ...entry, handle, expiresAt: this.clock.now() + this.ttlMs };
    this.entries.set(handle, stored);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    return stored;
  }

  /** The entry of `handle`, removed (single use); undefined when unknown, already taken or expired. */
  take(handle: string): StoredPrompt | undefined {
    const stored = this.entries.get(handle);
    if (!stored) return undefined;
    this.entries.delete(handle);
    return stored.expiresAt > this.clock.now() ? stored : undefined;
  }

  private newHandle(): string {
    return PROMPT_HANDLE_PREFIX + this.random(HANDLE_RANDOM_BYTES).toString('base64url');
  }

  private purgeExpired(): void {
    const now = this.clock.now();
    for (const [handle, stored] of this.entries) {
      if (stored.expiresAt > now) break; // one TTL for all: insertion order is expiry order
      this.entries.delete(handle);
    }
  }
}
