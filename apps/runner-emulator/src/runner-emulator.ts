import type { Clock } from './clock';
import { deviceDeadBurst, runtimeLine } from './device-dead-burst';
import { FaultFile, mergeFaults, type EmulatorSettings, type InitFailure } from './emulator-settings';
import { GenerationLoop, StopFlag } from './generation-loop';
import type { LineSource } from './line-reader';
import { LogFormatter } from './log-formatter';
import { dumpLikeNlohmann } from './post-config';
import type { ProcessControl } from './process-control';
import { ProgressBar } from './progress-bar';
import { RecordLine } from './record-lines';
import { layerFilename, type RunnerArguments } from './runner-arguments';
import type { StdioStream } from './stdio-stream';
import { TokenizerUnreachableError, type TokenizerHttpClient } from './tokenizer-http-client';

/** The model files the runner opens, and `post_config.json` (relative to the working directory). */
export interface ModelFiles {
  exists(path: string): boolean;
  /** The text of the file, or null when it cannot be opened. */
  read(path: string): string | null;
}

export interface RunnerEmulatorDeps {
  args: RunnerArguments;
  settings: EmulatorSettings;
  out: StdioStream;
  clock: Clock;
  control: ProcessControl;
  tokenizer: TokenizerHttpClient;
  files: ModelFiles;
  input: LineSource;
  stop: StopFlag;
  faultFile: FaultFile;
  pid: number;
}

/** What this build reports for the Qwen2.5-1.5B model (read from the first layer's mask in the real one). */
export const MAX_TOKEN_LEN = 1024;
export const KV_CACHE_SIZE = 256;
const POST_CONFIG = 'post_config.json';
/** How often the fault file is looked at while the runner sits at `>> `. */
const IDLE_FAULT_POLL_MS = 50;
const DEVICE_DEAD = Symbol('device dead');

/** `main()` of `main_axcl_*`: init (banner, handshake, progress, config), optional `--prompt` turn, the `>> ` loop. */
export class RunnerEmulator {
  private readonly log = new LogFormatter();

  constructor(private readonly deps: RunnerEmulatorDeps) {}

  /** Runs to the end; returns the exit status (the caller exits with it). */
  async main(): Promise<number> {
    const { args, out, control } = this.deps;
    const eosId = await this.init();
    if (eosId === null) return 255;
    const loop = new GenerationLoop(this.deps.tokenizer, out, this.log, this.deps.clock, control, {
      promptTokenMs: this.deps.settings.promptTokenMs,
      tokenMs: this.deps.settings.tokenMs,
      maxTokenLen: MAX_TOKEN_LEN,
      eosId,
      livePrint: args.livePrint,
      ctrlCStep: this.deps.settings.ctrlCStep,
    }, this.deps.pid);
    if (args.prompt !== '') await this.turn(loop, args.prompt);
    if (!args.continueLoop) return 0;
    out.printf('Type "q" to exit, Ctrl+c to stop current running\n');
    let eofSpins = 0;
    for (;;) {
      out.printf('>> ');
      out.fflush();
      const line = await this.waitAtPrompt();
      if (line === DEVICE_DEAD) {
        // The real capture: the runtime's burst, then nothing more; `q` and Ctrl-C are ignored.
        out.printf(deviceDeadBurst(this.deps.pid, new Date()));
        out.fflush();
        return control.hang();
      }
      if (line === null) {
        // getline keeps failing after end of file: the real runner spins printing `>> ` forever.
        if (++eofSpins >= this.deps.settings.eofSpinLimit) return 1;
        if (eofSpins % 256 === 0) await out.drained();
        continue;
      }
      if (line === 'q') return 0;
      if (line === '') continue;
      await this.turn(loop, line);
    }
  }

  /**
   * `getline` at `>> `. The device may die meanwhile: after `deviceDeadIdleMs` of waiting, or as
   * asked by the fault file (`deviceDeadIdleMs`), whichever comes first.
   */
  private async waitAtPrompt(): Promise<string | null | typeof DEVICE_DEAD> {
    const { settings, faultFile, clock, input } = this.deps;
    if (settings.deviceDeadIdleMs === null && !faultFile.configured) return input.nextLine();
    let answered = false;
    const line = input.nextLine().finally(() => (answered = true));
    const death = (async (): Promise<typeof DEVICE_DEAD> => {
      let deadline = settings.deviceDeadIdleMs === null ? null : clock.nowMs() + settings.deviceDeadIdleMs;
      await clock.sleep(0); // a line already waiting in the buffer is read first
      while (!answered) {
        const fromFile = faultFile.takeDeviceDeadIdleMs();
        if (fromFile !== null) deadline = Math.min(deadline ?? Infinity, clock.nowMs() + fromFile);
        if (deadline !== null && clock.nowMs() >= deadline) return DEVICE_DEAD;
        await clock.sleep(deadline === null ? IDLE_FAULT_POLL_MS : Math.max(0, Math.min(IDLE_FAULT_POLL_MS, deadline - clock.nowMs())));
      }
      return new Promise<never>(() => undefined); // the line won
    })();
    return Promise.race([line, death]);
  }

  private async turn(loop: GenerationLoop, line: string): Promise<void> {
    const oneOff = this.deps.faultFile.takeForRequest();
    await loop.run(line, this.deps.stop, {
      faults: mergeFaults(this.deps.settings.faults, oneOff),
      repeat: oneOff?.repeat ?? this.deps.settings.repeat,
    });
  }

  /** LLM::Init. Returns the eos id, or null after printing the `[E]` line of a failed init. */
  private async init(): Promise<number | null> {
    const { args, out, clock, files, settings } = this.deps;
    out.printf('build time: Feb 13 2025 15:44:57\n');
    out.printf(this.log.format('I', 'Init', RecordLine.initStart, 'LLM init start'));
    const total = args.axmodelNum + 3;
    const bar = new ProgressBar(total, 32, clock.nowMs());
    const step = (index: number, text: string) => {
      out.printf(bar.update(index, text, clock.nowMs()));
      out.fflush();
    };
    const fail = (line: number, text: string) => {
      out.printf(this.log.format('E', 'Init', line, text));
      return null;
    };

    if (args.tokenizerType !== 2) return fail(RecordLine.tokenizerInitFailed, `tokenizer.Init(${args.filenameTokenizerModel}) failed: only the http tokenizer (type 2) is emulated`);
    let bosId: number;
    let eosId: number;
    try {
      bosId = await this.deps.tokenizer.bosId();
      eosId = await this.deps.tokenizer.eosId();
    } catch (error) {
      // No answer within 1 s (unreachable, or too slow): the client dereferences an empty result.
      if (error instanceof TokenizerUnreachableError) return this.deps.control.crash('SIGSEGV');
      // An answer that is not 200 + the expected JSON: init fails (the record's text is the source's).
      return fail(RecordLine.tokenizerInitFailed, `tokenizer.Init(${args.filenameTokenizerModel}) failed`);
    }
    out.printf(`bos_id: ${bosId}, eos_id: ${eosId}\n`);
    step(0, 'tokenizer init ok');

    if (args.useMmapLoadEmbed) out.printf(this.log.format('I', 'Init', RecordLine.embedSelectorMmap, 'LLaMaEmbedSelector use mmap'));
    if (!files.exists(args.filenameTokensEmbed)) {
      return fail(RecordLine.embedSelectorInitFailed, `embed_selector.Init(${args.filenameTokensEmbed}, ${args.tokensEmbedNum}, ${args.tokensEmbedSize}) failed`);
    }
    step(1, 'embed_selector init ok');

    const failInit = settings.failInit ?? this.deps.faultFile.takeFailInit();
    const stepMs = Math.round(settings.loadMs / (args.axmodelNum + 1));
    for (let i = 0; i < args.axmodelNum; i++) {
      const filename = layerFilename(args.templateFilenameAxmodel, i);
      await clock.sleep(stepMs);
      // The card is opened when the first layer is loaded (ax_runner's init).
      if (i === 0 && failInit) out.printf(this.cardInitFailure(failInit));
      if (failInit || !files.exists(filename)) return fail(RecordLine.axmodelInitFailed, `init axmodel(${filename}) failed`);
      step(i + 2, `init ${i} axmodel ok,remain_cmm(-1 MB)`);
    }
    await clock.sleep(stepMs);
    if (!files.exists(args.filenamePostAxmodel)) return fail(RecordLine.postAxmodelInitFailed, `init post axmodel(${args.filenamePostAxmodel}) failed`);
    step(args.axmodelNum + 2, 'init post axmodel ok\n');

    out.printf(this.log.format('I', 'Init', RecordLine.maxTokenLen, `max_token_len : ${MAX_TOKEN_LEN}`));
    out.printf(this.log.format('I', 'Init', RecordLine.kvCacheSize, `kv_cache_size : ${KV_CACHE_SIZE}, kv_cache_num: ${MAX_TOKEN_LEN}`));
    const config = files.read(POST_CONFIG);
    if (config === null) {
      out.printf(this.log.format('E', 'load_config', RecordLine.configOpenFailed, `config file(${POST_CONFIG}) open failed`));
      out.printf(this.log.format('W', 'Init', RecordLine.postConfigFailed, `load postprocess config(${POST_CONFIG}) failed`));
    } else {
      let dumped: string;
      try {
        dumped = dumpLikeNlohmann(config);
      } catch (error) {
        // nlohmann::json::parse throws; nothing catches it: std::terminate → abort.
        process.stderr.write(`terminate called after throwing an instance of 'nlohmann::json_abi_v3_11_2::detail::parse_error'\n  what():  ${(error as Error).message}\n`);
        return this.deps.control.crash('SIGABRT');
      }
      out.printf(this.log.format('I', 'load_config', RecordLine.loadConfig, `load config: \n${dumped}\n`));
    }
    out.printf(this.log.format('I', 'Init', RecordLine.initOk, 'LLM init ok'));
    return eosId;
  }

  /**
   * The card's own lines when it cannot be opened, as quoted in docs/runner-protocol.md (from people
   * running this runner on a Pi). The document quotes them as plain lines, without colour codes or
   * padding; it does not say on which stream they come, whether other lines surround them, nor the
   * exact place in the start-up: here they come on stdout when the first layer is loaded, where the
   * runner opens the device. The timestamp/pid prefix of the `request_ports` line follows the
   * runtime's format seen in the device-dead capture (the document quotes the line without it).
   */
  private cardInitFailure(failure: InitFailure): string {
    switch (failure) {
      case 'axmodel':
        return '';
      case 'device-permission':
        return (
          `[E][init][ ${RecordLine.setDeviceFailed}]: Set AXCL device failed{0x80300186}.\n` +
          runtimeLine(this.deps.pid, new Date(), 'E', 'device manager', 'request_ports', 464, 'request ports from device 1 fail, errno: 1 Operation not permitted')
        );
      case 'no-driver':
        return 'axcl init fail, ret = 0x8030010b\nopen /dev/axcl_host fail, errno: 2 No such file or directory\n';
    }
  }
}
