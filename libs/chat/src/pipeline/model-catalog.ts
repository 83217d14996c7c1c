import { Inject, Injectable } from '@nestjs/common';
import { CHAT_OPTIONS, ChatModuleOptions } from '../chat.options';
import { RequestClock } from '@qwen/http';

/** A requested model name that is neither the configured id nor an alias (acceptAnyModelName off). */
export class UnknownModelError extends Error {
  constructor(readonly requested: string) {
    super(`The model '${requested}' does not exist`);
    this.name = 'UnknownModelError';
  }
}

export interface CatalogEntry {
  /** The configured model id: the name every answer carries. */
  id: string;
  aliases: string[];
  /** Epoch seconds: when this service started serving it. */
  created: number;
}

/**
 * The one served model and the names it answers to. With `acceptAnyModelName` (default on) any
 * requested name maps to the configured id — one model, drop-in clients keep their own name;
 * with it off, only the id and the aliases are known.
 */
@Injectable()
export class ModelCatalog {
  private readonly entry: CatalogEntry;
  private readonly names: Set<string>;

  constructor(@Inject(CHAT_OPTIONS) private readonly options: ChatModuleOptions, clock: RequestClock) {
    const { id, aliases } = options.model;
    this.entry = { id, aliases: [...aliases], created: Math.floor(clock.now() / 1000) };
    this.names = new Set([id, ...aliases]);
  }

  /** The configured model. */
  get model(): CatalogEntry {
    return this.entry;
  }

  /** True when `name` is the id or an alias (exact, case-sensitive like OpenAI). */
  isKnown(name: string): boolean {
    return this.names.has(name);
  }

  /** The configured id for a requested name, or UnknownModelError. */
  resolve(requested: string): string {
    if (this.options.model.acceptAnyModelName || this.names.has(requested)) return this.entry.id;
    throw new UnknownModelError(requested);
  }
}
