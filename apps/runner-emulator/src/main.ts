/**
 * Emulator of the upstream runner `main_axcl_aarch64` / `main_axcl_x86` (ax-llm, axcl-llm branch,
 * "build time: Feb 13 2025 15:44:57"), for machines without the LLM-8850 card. It takes the same
 * flags, prints the same bytes, speaks the same HTTP tokenizer protocol and has the same failure
 * modes as the real binary (see ../../../../shared/runner-protocol.md and docs/architecture.md).
 * Run it from the model directory (paths in the flags are relative), normally through the
 * `main_axcl_*` wrapper scripts written by scripts/make-emulated-model.ts.
 *
 * Its "model" answers with the token ids of the LAST user message of the prompt
 * (`<|im_start|>user\n` … `<|im_end|>`), or echoes a prompt without one, then eos.
 *
 * Settings and fault injection (environment; the only process.env reads of the emulator):
 *   QWEN_EMU_LOAD_MS=20000          total model load time, spread over the layer/post progress steps
 *   QWEN_EMU_TOKEN_MS=71            time per generated token (~14 tokens/s, like the card on a Pi 5)
 *   QWEN_EMU_PROMPT_TOKEN_MS=<TOKEN_MS>  time per prompt token (fed one at a time, no batched prefill)
 *   QWEN_EMU_REPEAT=1               the reply is the last user message repeated N times, then eos
 *   QWEN_EMU_FAIL_INIT=1            init fails at the first layer: `[E]` line, exit status 255
 *   QWEN_EMU_CRASH_AFTER_TOKENS=N   dies by SIGSEGV after N generated tokens of a turn
 *   QWEN_EMU_DEVICE_DEAD_AFTER_TOKENS=N  after N generated tokens prints the "device 1 is dead" burst
 *                                   (300 `[C][device][print]` lines), then no more output; stays alive until killed
 *   QWEN_EMU_HANG_AFTER_TOKENS=N    after N generated tokens stops all output; stays alive until killed
 *   QWEN_EMU_START_LOG=<file>       appends `<pid> <JSON array of the arguments>\n` at every process start
 *   QWEN_EMU_FAULT_FILE=<file>      JSON {crashAfterTokens, deviceDeadAfterTokens, hangAfterTokens, repeat}
 *                                   read when a request line arrives and deleted (a one-off for that turn);
 *                                   {failInit: true} is read and deleted at start-up instead
 *   QWEN_EMU_EOF_SPIN_LIMIT=100000  after end of file on stdin, `>> ` is printed this many times, then exit 1
 *   QWEN_EMU_ARGV0                  program name for the usage text (set by the wrapper script)
 */
import { appendFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { SystemClock } from './clock';
import { FaultFile, readEmulatorSettings, type EmulatorSettings } from './emulator-settings';
import { StopFlag } from './generation-loop';
import { StreamLineReader } from './line-reader';
import { NodeProcessControl } from './process-control';
import { RunnerArgumentParser } from './runner-arguments';
import { RunnerEmulator } from './runner-emulator';
import { StdioStream } from './stdio-stream';
import { TokenizerHttpClient } from './tokenizer-http-client';

async function main(): Promise<void> {
  let settings: EmulatorSettings;
  try {
    settings = readEmulatorSettings(process.env);
  } catch (error) {
    process.stderr.write(`runner emulator: ${(error as Error).message}\n`);
    process.exit(2);
  }
  const argv = process.argv.slice(2);
  if (settings.startLog) appendFileSync(settings.startLog, `${process.pid} ${JSON.stringify(argv)}\n`);

  const parsed = new RunnerArgumentParser(process.env.QWEN_EMU_ARGV0 || 'main_axcl').parse(argv);
  if (parsed.kind === 'exit') {
    process.stderr.write(parsed.stderr);
    process.exit(parsed.exitCode);
  }

  // The real runner: SIGINT only sets the stop flag of the current generation; SIGPIPE is ignored.
  const stop = new StopFlag();
  process.on('SIGINT', () => stop.request());
  process.on('SIGPIPE', () => undefined);
  // A terminal that went away: nothing can be printed any more.
  process.stdout.on('error', () => process.exit(1));

  const out = new StdioStream({ write: (chunk, done) => process.stdout.write(chunk, () => done()) }, process.stdout.isTTY === true);
  const control = new NodeProcessControl(out);
  const clock = new SystemClock();
  const emulator = new RunnerEmulator({
    args: parsed.args,
    settings,
    out,
    clock,
    control,
    tokenizer: new TokenizerHttpClient(parsed.args.filenameTokenizerModel, clock),
    files: {
      exists: (path) => existsSync(path) && statSync(path).isFile(),
      read: (path) => {
        try {
          return readFileSync(path, 'utf8');
        } catch {
          return null;
        }
      },
    },
    input: new StreamLineReader(process.stdin),
    stop,
    faultFile: new FaultFile(settings.faultFile),
    pid: process.pid,
  });
  await control.exit(await emulator.main());
}

void main();
