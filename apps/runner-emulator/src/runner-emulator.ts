import type { Clock } from './clock';
import { FaultFile, mergeFaults, type EmulatorSettings } from './emulator-settings';
import { GenerationLoop, StopFlag } from './generation-loop';
import type { LineSource } from './line-reader';
import { LogFormatter } from './log-formatter';
import { dumpLikeNlohmann } from './post-config';
import type { ProcessControl } from './process-control';
import { ProgressBar } from './progress-bar';
import { layerFilename, type RunnerArguments } from './runner-arguments';
import type { StdioStream } from './stdio-stream';
import type { TokenizerHttpClient } from './tokenizer-http-client';

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
    }, this.deps.pid);
    if (args.prompt !== '') await this.turn(loop, args.prompt);
    if (!args.continueLoop) return 0;
    out.printf('Type "q" to exit, Ctrl+c to stop current running\n');
    let eofSpins = 0;
    for (;;) {
      out.printf('>> ');
      out.fflush();
      const line = await this.deps.input.nextLine();
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
    out.printf(this.log.format('I', 'Init', 111, 'LLM init start'));
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

    if (args.tokenizerType !== 2) return fail(130, `tokenizer.Init(${args.filenameTokenizerModel}) failed: only the http tokenizer (type 2) is emulated`);
    let bosId: number;
    let eosId: number;
    try {
      bosId = await this.deps.tokenizer.bosId();
      eosId = await this.deps.tokenizer.eosId();
    } catch {
      return fail(130, `tokenizer.Init(${args.filenameTokenizerModel}) failed`);
    }
    out.printf(`bos_id: ${bosId}, eos_id: ${eosId}\n`);
    step(0, 'tokenizer init ok');

    if (args.useMmapLoadEmbed) out.printf(this.log.format('I', 'Init', 45, 'LLaMaEmbedSelector use mmap'));
    if (!files.exists(args.filenameTokensEmbed)) {
      return fail(150, `embed_selector.Init(${args.filenameTokensEmbed}, ${args.tokensEmbedNum}, ${args.tokensEmbedSize}) failed`);
    }
    step(1, 'embed_selector init ok');

    const failInit = settings.failInit || this.deps.faultFile.takeFailInit();
    const stepMs = Math.round(settings.loadMs / (args.axmodelNum + 1));
    for (let i = 0; i < args.axmodelNum; i++) {
      const filename = layerFilename(args.templateFilenameAxmodel, i);
      await clock.sleep(stepMs);
      if (failInit || !files.exists(filename)) return fail(178, `init axmodel(${filename}) failed`);
      step(i + 2, `init ${i} axmodel ok,remain_cmm(-1 MB)`);
    }
    await clock.sleep(stepMs);
    if (!files.exists(args.filenamePostAxmodel)) return fail(188, `init post axmodel(${args.filenamePostAxmodel}) failed`);
    step(args.axmodelNum + 2, 'init post axmodel ok\n');

    out.printf(this.log.format('I', 'Init', 226, `max_token_len : ${MAX_TOKEN_LEN}`));
    out.printf(this.log.format('I', 'Init', 231, `kv_cache_size : ${KV_CACHE_SIZE}, kv_cache_num: ${MAX_TOKEN_LEN}`));
    const config = files.read(POST_CONFIG);
    if (config === null) {
      out.printf(this.log.format('E', 'load_config', 278, `config file(${POST_CONFIG}) open failed`));
      out.printf(this.log.format('W', 'Init', 285, `load postprocess config(${POST_CONFIG}) failed`));
    } else {
      let dumped: string;
      try {
        dumped = dumpLikeNlohmann(config);
      } catch (error) {
        // nlohmann::json::parse throws; nothing catches it: std::terminate → abort.
        process.stderr.write(`terminate called after throwing an instance of 'nlohmann::json_abi_v3_11_2::detail::parse_error'\n  what():  ${(error as Error).message}\n`);
        return this.deps.control.crash('SIGABRT');
      }
      out.printf(this.log.format('I', 'load_config', 282, `load config: \n${dumped}\n`));
    }
    out.printf(this.log.format('I', 'Init', 288, 'LLM init ok'));
    return eosId;
  }
}
