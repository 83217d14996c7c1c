import { closeSync, mkdirSync, openSync, writeSync, chmodSync } from 'node:fs';
import { dirname } from 'node:path';

/** What the runner is printing: its own messages, or the model's text (an answer to a user). */
export type RunnerOutputKind = 'runtime' | 'model-text';

/** Line prefixes of model.log: `<ISO time> <tag>| <line>`. */
export const MODEL_LOG_TAGS = { service: 'qwen', runtime: 'runner', 'model-text': 'answer' } as const;

export interface ModelLogOptions {
  /** Keep the model's text (answers) in the log; false writes one `answer| (model text not kept)` line per answer instead. */
  keepModelText: boolean;
}

/**
 * model.log: the runner's output, line by line, each line timestamped and tagged — `runner|` for
 * the runner's own messages, `answer|` for model text (what the runner prints during a turn), `qwen|`
 * for the service's own marks (start, exit). Model text cannot pass for a runtime line: a forged
 * "device 1 is dead" in an answer is an `answer|` line. Created 0600 in a 0700 directory (answers are
 * private), whoever starts the service. Written synchronously: a crash loses nothing.
 */
export class ModelLogFile {
  private readonly fd: number;
  private pending = '';
  private pendingKind: RunnerOutputKind = 'runtime';
  private hiding = false;

  constructor(
    path: string,
    private readonly options: ModelLogOptions,
    private readonly now: () => Date = () => new Date(),
  ) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    chmodSync(dirname(path), 0o700);
    this.fd = openSync(path, 'a', 0o600);
    chmodSync(path, 0o600); // a file made by an older version keeps its mode otherwise
  }

  /** A mark of the service's own (runner start, exit). */
  note(text: string): void {
    this.flush();
    this.line(MODEL_LOG_TAGS.service, text);
  }

  /** A chunk of the runner's output; complete lines are written, a partial one waits for its end (or a change of kind). */
  write(chunk: string, kind: RunnerOutputKind): void {
    if (kind !== this.pendingKind) this.flush();
    this.pendingKind = kind;
    const lines = (this.pending + chunk).split('\n');
    this.pending = lines.pop() ?? '';
    for (const text of lines) this.output(text, kind);
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }

  private flush(): void {
    if (this.pending) this.output(this.pending, this.pendingKind);
    this.pending = '';
  }

  private output(text: string, kind: RunnerOutputKind): void {
    if (kind === 'model-text' && !this.options.keepModelText) {
      if (!this.hiding) this.line(MODEL_LOG_TAGS['model-text'], '(model text not kept: model.logModelText is false)');
      this.hiding = true;
      return;
    }
    this.hiding = false;
    this.line(MODEL_LOG_TAGS[kind], text);
  }

  private line(tag: string, text: string): void {
    writeSync(this.fd, `${this.now().toISOString()} ${tag}| ${text.replace(/\r$/, '')}\n`);
  }
}
