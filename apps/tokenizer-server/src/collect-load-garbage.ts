import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Parsing tokenizer.json leaves ~100 MB of garbage that an idle thread would otherwise keep for a long
 * time (nothing allocates enough to trigger a full GC); collect it once after loading. Each thread
 * (the main one, the registration worker) has its own heap and calls this for itself.
 */
export function collectLoadGarbage(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (() => void) | undefined;
  gc?.();
}
