/**
 * The service as its own process (`node dist/apps/qwen-chat/src/main.js`, configured by QWEN_*
 * variables like in production), so that its resident size is its own and not the benchmark's.
 */
import { findInstallRoot } from '@qwen/config';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmulatedModelDir } from '../../scripts/make-emulated-model';
import { freePort } from '../support/free-port';

interface Health {
  details: { model: { state: string; pid: number | null }; tokenizer: { pid: number | null }; queue: { length: number; inFlight: number } };
}

/** VmRSS of a process in MB (from /proc/<pid>/status), or NaN when it is gone. */
export function rssMb(pid: number | null): number {
  if (!pid) return Number.NaN;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/**
 * The V8 flags the service is started with; scripts/start_service.sh (how the systemd unit and
 * start_qwen.sh start it) passes the same. The service holds about 26 MB of live heap; with V8's
 * defaults it keeps a 32 MB young generation resident (about 18 MB of its idle RSS) and lets the old
 * generation grow well past what is live between full collections (the swing of a reading taken
 * after a burst). 1 MB semi-spaces alone moved that swing to the old generation (service +14 and
 * +36 MB after three bursts); with the old generation allowed to grow 20 % past the live heap
 * between full collections, both stay small (2026-12-02: 91 MB idle, +4 MB after three bursts).
 */
export const SERVICE_NODE_FLAGS = ['--max-semi-space-size=1', '--heap-growing-percent=20'];

export class ServiceProcess {
  private constructor(
    private readonly child: ChildProcess,
    private readonly root: string,
    readonly url: string,
  ) {}

  get pid(): number {
    return this.child.pid!;
  }

  static async start(env: Record<string, string>): Promise<ServiceProcess> {
    const root = mkdtempSync(join(tmpdir(), 'qwen-bench-'));
    const modelDir = await createEmulatedModelDir({ target: join(root, 'model') });
    const port = await freePort();
    const entry = join(findInstallRoot(__dirname), 'dist', 'apps', 'qwen-chat', 'src', 'main.js');
    const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, entry], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        ...process.env,
        QWEN_MODEL_DIR: modelDir,
        QWEN_LOG_DIR: join(root, 'logs'),
        QWEN_RUN_DIR: join(root, 'run'),
        QWEN_PORT: String(port),
        QWEN_TOKENIZER_PORT: String(await freePort()),
        QWEN_LOG_LEVEL: 'warn',
        QWEN_EMU_LOAD_MS: '0',
        ...env,
      },
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const service = new ServiceProcess(child, root, `http://127.0.0.1:${port}`);
    const deadline = Date.now() + 60000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}: ${stderr}`);
      const health = await service.health().catch(() => null);
      if (health?.details.model.state === 'ready') return service;
      if (Date.now() > deadline) {
        await service.stop();
        throw new Error(`the service did not become ready within 60 s: ${stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100)); // polling another process's /health: no event to wait on
    }
  }

  async health(): Promise<Health> {
    const res = await fetch(`${this.url}/health`);
    return (await res.json()) as Health;
  }

  /** RSS of the service process and of its tokenizer server process, MB. */
  async memory(): Promise<{ service: number; tokenizer: number }> {
    const health = await this.health();
    return { service: rssMb(this.pid), tokenizer: rssMb(health.details.tokenizer.pid) };
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 15000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}
