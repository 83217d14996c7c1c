/**
 * The command line of `main_axcl_*` (axcl-llm branch of ax-llm, built Feb 13 2025), parsed the way
 * its parser (cmdline.hpp) does: `--name value` or `--name=value`, typed values, `--prompt` required,
 * unknown options rejected. Errors print the first message and the usage on stderr, exit status 1.
 */

export interface RunnerArguments {
  templateFilenameAxmodel: string;
  axmodelNum: number;
  tokenizerType: number;
  filenameTokenizerModel: string;
  bos: boolean;
  eos: boolean;
  filenamePostAxmodel: string;
  filenameTokensEmbed: string;
  tokensEmbedNum: number;
  tokensEmbedSize: number;
  useMmapLoadEmbed: boolean;
  livePrint: boolean;
  continueLoop: boolean;
  prompt: string;
}

type OptionType = 'string' | 'int' | 'bool';

interface OptionSpec {
  name: string;
  key: keyof RunnerArguments;
  type: OptionType;
  required: boolean;
  description: string;
}

/** The options of this build, in the order the usage lists them. */
const OPTIONS: OptionSpec[] = [
  { name: 'prompt', key: 'prompt', type: 'string', required: true, description: 'prompt' },
  { name: 'template_filename_axmodel', key: 'templateFilenameAxmodel', type: 'string', required: false, description: 'axmodel path template' },
  { name: 'filename_post_axmodel', key: 'filenamePostAxmodel', type: 'string', required: false, description: 'post axmodel path' },
  { name: 'tokenizer_type', key: 'tokenizerType', type: 'int', required: false, description: 'tokenizer type (2 = http)' },
  { name: 'filename_tokenizer_model', key: 'filenameTokenizerModel', type: 'string', required: false, description: 'tokenizer model path' },
  { name: 'filename_tokens_embed', key: 'filenameTokensEmbed', type: 'string', required: false, description: 'tokens embed path' },
  { name: 'bos', key: 'bos', type: 'bool', required: false, description: '' },
  { name: 'eos', key: 'eos', type: 'bool', required: false, description: '' },
  { name: 'axmodel_num', key: 'axmodelNum', type: 'int', required: false, description: 'num of axmodel(for template)' },
  { name: 'tokens_embed_num', key: 'tokensEmbedNum', type: 'int', required: false, description: 'tokens embed num' },
  { name: 'tokens_embed_size', key: 'tokensEmbedSize', type: 'int', required: false, description: 'tokens embed size' },
  { name: 'use_mmap_load_embed', key: 'useMmapLoadEmbed', type: 'bool', required: false, description: 'it can save os memory' },
  { name: 'live_print', key: 'livePrint', type: 'bool', required: false, description: 'print in live if set true, else print in end' },
  { name: 'continue', key: 'continueLoop', type: 'bool', required: false, description: 'continuous dialogue' },
];

/** The binary's built-in defaults (used when a flag is absent). */
const DEFAULTS: Omit<RunnerArguments, 'prompt'> = {
  templateFilenameAxmodel: 'tinyllama-int8/tinyllama_l%d.axmodel',
  axmodelNum: 22,
  tokenizerType: 0,
  filenameTokenizerModel: 'tests/tokenizer.model',
  bos: false,
  eos: false,
  filenamePostAxmodel: 'tinyllama-int8/tinyllama_post.axmodel',
  filenameTokensEmbed: 'tinyllama.model.embed_tokens.weight.bfloat16.bin',
  tokensEmbedNum: 32000,
  tokensEmbedSize: 2048,
  useMmapLoadEmbed: false,
  livePrint: false,
  continueLoop: false,
};

export type ParseOutcome =
  | { kind: 'ok'; args: RunnerArguments }
  /** Print `stderr` and exit with `exitCode` (usage: 0, errors: 1), like cmdline::parse_check. */
  | { kind: 'exit'; exitCode: number; stderr: string };

export class RunnerArgumentParser {
  constructor(private readonly programName: string) {}

  parse(argv: string[]): ParseOutcome {
    const errors: string[] = [];
    const values = new Map<string, string>();
    let help = false;
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i];
      if (!arg.startsWith('--')) continue; // cmdline keeps bare words as "rest"; the runner ignores them
      const eq = arg.indexOf('=');
      const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      if (name === 'help') {
        help = true;
        continue;
      }
      const spec = OPTIONS.find((o) => o.name === name);
      if (!spec) {
        errors.push(`undefined option: --${name}`);
        continue;
      }
      let value: string;
      if (eq >= 0) value = arg.slice(eq + 1);
      else if (i + 1 >= argv.length) {
        errors.push(`option needs value: --${name}`);
        continue;
      } else value = argv[++i];
      if (!isValid(spec.type, value)) {
        errors.push(`option value is invalid: --${name}=${value}`);
        continue;
      }
      values.set(name, value);
    }
    for (const spec of OPTIONS) {
      if (spec.required && !values.has(spec.name)) errors.push(`need option: --${spec.name}`);
    }
    if ((argv.length === 0 && errors.length > 0) || help) return { kind: 'exit', exitCode: 0, stderr: this.usage() };
    if (errors.length > 0) return { kind: 'exit', exitCode: 1, stderr: `${errors[0]}\n${this.usage()}` };

    const args: Record<string, unknown> = { ...DEFAULTS };
    for (const spec of OPTIONS) {
      const raw = values.get(spec.name);
      if (raw !== undefined) args[spec.key] = convert(spec.type, raw);
    }
    return { kind: 'ok', args: args as unknown as RunnerArguments };
  }

  usage(): string {
    const head = `usage: ${this.programName} --prompt=string [options] ... \noptions:\n`;
    const lines = OPTIONS.map((o) => {
      const left = `      --${o.name}`;
      const typeName = o.type === 'int' ? 'int' : o.type === 'bool' ? 'bool' : 'string';
      return `${left.padEnd(34)}${o.description} (${typeName}${o.required ? '' : ' [=...]'})\n`;
    });
    return head + lines.join('') + `  -?, --help${' '.repeat(24)}print this message\n`;
  }
}

function isValid(type: OptionType, value: string): boolean {
  if (type === 'string') return true;
  if (type === 'int') return /^\s*[+-]?\d+$/.test(value) && Math.abs(Number(value)) <= 2147483647;
  return value === '0' || value === '1'; // std::istream >> bool accepts only 0 and 1
}

function convert(type: OptionType, value: string): string | number | boolean {
  if (type === 'string') return value;
  if (type === 'int') return Number.parseInt(value, 10);
  return value === '1';
}

/** printf("%d")-style substitution of the layer index into the template (first `%d` only). */
export function layerFilename(template: string, index: number): string {
  return template.replace('%d', String(index));
}
