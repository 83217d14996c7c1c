/**
 * Helpers for the proxy tests (test/proxies/*.e2e-spec.ts): render a SHIPPED proxy configuration
 * with the test's loopback ports, run the real proxy (Debian's haproxy / nginx) in the foreground,
 * and read its output.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const REPO_ROOT = join(__dirname, '..', '..');

/**
 * The shipped file at `relativePath` with each `[example, replacement]` applied to EVERY occurrence.
 * An example that is no longer in the file is an error: the test must not silently drive something
 * other than what is shipped.
 */
export function renderShippedConfig(relativePath: string, replacements: Array<[string | RegExp, string]>): string {
  let text = readFileSync(join(REPO_ROOT, relativePath), 'utf8');
  for (const [example, replacement] of replacements) {
    const pattern = typeof example === 'string' ? new RegExp(escapeRegExp(example), 'g') : example;
    if (!pattern.global) throw new Error(`renderShippedConfig: ${pattern} must have the g flag`);
    if (!pattern.test(text)) throw new Error(`${relativePath} no longer contains ${String(example)}: update the test's rendering`);
    pattern.lastIndex = 0;
    text = text.replace(pattern, replacement);
  }
  return text;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A proxy process in the foreground: its output is kept for assertions and failure messages. */
export class ProxyProcess {
  private output = '';
  private readonly exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcess, readonly name: string) {
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code) => resolve(code));
      // Not installed (ENOENT) or not executable: said in the failure message, not an unhandled error.
      child.once('error', (error) => {
        this.output += `${name} could not be started: ${error.message}\n`;
        resolve(null);
      });
    });
  }

  static start(name: string, command: string, args: string[], cwd: string): ProxyProcess {
    return new ProxyProcess(spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] }), name);
  }

  /** Everything it printed so far (stdout and stderr). */
  log(): string {
    return this.output;
  }

  /** Resolves when `url` answers with `expectedStatus`; fails early if the proxy exits. */
  async waitForHttp(url: string, expectedStatus: number, ms = 10000): Promise<void> {
    const deadline = Date.now() + ms;
    let exitCode: number | null | undefined;
    void this.exited.then((code) => (exitCode = code));
    let last = 'no answer';
    while (Date.now() < deadline) {
      if (exitCode !== undefined) throw new Error(`${this.name} exited with ${exitCode}:\n${this.output}`);
      try {
        const res = await fetch(url, { redirect: 'manual' });
        await res.arrayBuffer();
        if (res.status === expectedStatus) return;
        last = `status ${res.status}`;
      } catch (error) {
        last = (error as Error).message;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`${this.name}: ${url} did not answer ${expectedStatus} within ${ms} ms (last: ${last}):\n${this.output}`);
  }

  /** SIGTERM (both proxies stop at once on it), then waits for the exit. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    await this.exited;
  }
}
