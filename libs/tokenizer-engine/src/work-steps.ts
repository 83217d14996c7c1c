/**
 * Work done a step at a time (a generator that yields between steps): whoever runs it may stop at any
 * step to do something more urgent and resume later (the tokenizer worker answers a line this way
 * while it fits a long registration).
 */
export type WorkSteps<T> = Generator<void, T, void>;

/** Runs every step at once and gives the result. */
export function runAllSteps<T>(steps: WorkSteps<T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}
