import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let threadGc: (() => void) | undefined;

/** This thread's `gc()` (V8's, made reachable once: each call would otherwise make a new context). */
function garbageCollector(): () => void {
  if (threadGc) return threadGc;
  setFlagsFromString('--expose-gc');
  threadGc = runInNewContext('gc') as () => void;
  return threadGc;
}

/**
 * Collects this thread's garbage, compacting the heap so the pages it used are given back (each thread
 * has its own heap). Parsing tokenizer.json leaves ~100 MB of garbage that an idle thread would
 * otherwise keep for a long time (nothing allocates enough to trigger a full GC): called once after
 * loading (~4 MB less than a plain collection), and by each thread whenever it falls idle after work
 * (IdleGarbageCollection): fitting leaves tens of MB of old garbage in the worker, and the main thread,
 * which receives no registration any more, allocates too little for V8 to collect what the runner's
 * calls leave — both would be collected only once the heap had grown further.
 */
export function collectGarbage(): void {
  const gc = garbageCollector();
  setFlagsFromString('--compact-on-every-full-gc');
  gc();
  setFlagsFromString('--no-compact-on-every-full-gc');
}

/** Once a thread has been idle this long after work, it collects its garbage (docs/tokenizer.md, Memory). */
export const IDLE_COLLECT_MS = 1000;

/**
 * Collects a thread's garbage (collectGarbage) once it has been idle for IDLE_COLLECT_MS after work:
 * call `workDone()` after each piece of work; `busy` says whether work is still under way.
 */
export class IdleGarbageCollection {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly busy: () => boolean = () => false,
    private readonly collect: () => void = collectGarbage,
  ) {}

  workDone(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.busy() || this.collect(), IDLE_COLLECT_MS);
    this.timer.unref();
  }
}
