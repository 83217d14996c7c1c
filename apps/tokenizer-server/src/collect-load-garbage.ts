import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Parsing tokenizer.json leaves ~100 MB of garbage that an idle thread would otherwise keep for a long
 * time (nothing allocates enough to trigger a full GC); collect it once after loading, compacting the
 * heap so the pages the parse used are given back (~4 MB more than a plain collection). Called by the
 * worker thread that loads the tokenizer (each thread has its own heap).
 */
export function collectLoadGarbage(): void {
  setFlagsFromString('--expose-gc');
  setFlagsFromString('--compact-on-every-full-gc');
  const gc = runInNewContext('gc') as (() => void) | undefined;
  gc?.();
  setFlagsFromString('--no-compact-on-every-full-gc');
}
