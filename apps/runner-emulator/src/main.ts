/**
 * Emulator of the upstream runner `main_axcl_aarch64` / `main_axcl_x86` (ax-llm, axcl-llm branch,
 * "build time: Feb 13 2025 15:44:57"), for machines without the LLM-8850 card. It takes the same
 * flags, prints the same bytes, speaks the same HTTP tokenizer protocol and has the same failure
 * modes as the real binary (see docs/runner-protocol.md and test/fixtures/captures/).
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
 *   QWEN_EMU_FAIL_INIT=<kind>       start-up fails when the first layer is loaded, status 255:
 *                                   1 | axmodel          `[E] init axmodel(…) failed`
 *                                   device-permission    `[E][init][ 386]: Set AXCL device failed{0x80300186}.`,
 *                                                        `[…][pid][E][device manager][request_ports][464]: … Operation not permitted`, then the [E] above
 *                                   no-driver            `axcl init fail, ret = 0x8030010b`,
 *                                                        `open /dev/axcl_host fail, errno: 2 No such file or directory`, then the [E] above
 *   QWEN_EMU_CRASH_AFTER_TOKENS=N   dies by SIGSEGV after N generated tokens of a turn
 *   QWEN_EMU_DEVICE_DEAD_AFTER_TOKENS=N  after N generated tokens the NPU dies: the runtime's burst
 *                                   (`[W] … device 1 is dead`, `[C] … allocated device memories: 226`,
 *                                   226 `[C] … bytes` lines), then no more output, input ignored; stays alive until killed
 *   QWEN_EMU_DEVICE_DEAD_IDLE_MS=N  the NPU dies (same burst, same silence) once the runner has sat N ms at `>> `
 *   QWEN_EMU_HANG_AFTER_TOKENS=N    after N generated tokens stops all output; stays alive until killed
 *   QWEN_EMU_CTRL_C_STEP=abandon    a Ctrl-C during a forward pass cuts it short (no token); `finish`: the pass
 *                                   still samples its token, printed if it completes a 3-token chunk
 *   QWEN_EMU_START_LOG=<file>       appends `<pid> <JSON array of the arguments>\n` at every process start
 *   QWEN_EMU_FAULT_FILE=<file>      JSON {crashAfterTokens, deviceDeadAfterTokens, hangAfterTokens, repeat}
 *                                   read when a request line arrives and deleted (a one-off for that turn);
 *                                   {failInit: true | "<kind>"} is read and deleted at start-up instead;
 *                                   {deviceDeadIdleMs: N} is read and deleted while the runner waits at `>> `
 *   QWEN_EMU_EOF_SPIN_LIMIT=100000  after end of file on stdin, `>> ` is printed this many times, then exit 1
 *   QWEN_EMU_ARGV0                  program name for the usage text (set by the wrapper script)
 *
 * Like the real runner, it dies by SIGSEGV when the tokenizer gives no answer within 1 s (refused,
 * reset or too slow) to ANY call, at init as well as mid-answer, and prints two `[E][Decode]`
 * records and sleeps 1 s for each failed try of a `/decode` (two tries).
 */
import { appendFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { SystemClock } from './clock';
import { FaultFile, readEmulatorSettings, type EmulatorSettings } from './emulator-settings';
import { StopFlag } from './generation-loop';
import { StreamLineReader } from './line-reader';
import { LogFormatter } from './log-formatter';
import { NodeProcessControl } from './process-control';
import { RecordLine } from './record-lines';
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
  const log = new LogFormatter();
  const emulator = new RunnerEmulator({
    args: parsed.args,
    settings,
    out,
    clock,
    control,
    tokenizer: new TokenizerHttpClient(parsed.args.filenameTokenizerModel, clock, (text) => out.printf(log.format('E', 'Decode', RecordLine.decodeFailed, text))),
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
