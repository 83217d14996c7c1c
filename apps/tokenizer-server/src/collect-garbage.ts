import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** This thread's `gc()` (V8's, made reachable once). */
function garbageCollector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/**
 * Collects this thread's garbage, compacting the heap so the pages it used are given back (each thread
 * has its own heap). Parsing tokenizer.json leaves ~100 MB of garbage that an idle thread would
 * otherwise keep for a long time (nothing allocates enough to trigger a full GC): called once after
 * loading (~4 MB less than a plain collection), and by the worker whenever it falls idle after work
 * (fitting leaves tens of MB of old garbage that V8 would collect only once the heap grows further).
 */
export function collectGarbage(): void {
  const gc = garbageCollector();
  setFlagsFromString('--compact-on-every-full-gc');
  gc();
  setFlagsFromString('--no-compact-on-every-full-gc');
}
