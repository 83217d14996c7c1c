import { upstreamRunnerArgs } from '@qwen/model';
import { layerFilename, RunnerArgumentParser } from './runner-arguments';

describe(RunnerArgumentParser.name, () => {
  const parser = new RunnerArgumentParser('./main_axcl_x86');

  it('parses the upstream launch flags', () => {
    const outcome = parser.parse(upstreamRunnerArgs('http://127.0.0.1:12345', 'hi'));
    expect(outcome).toEqual({
      kind: 'ok',
      args: expect.objectContaining({
        templateFilenameAxmodel: 'qwen2.5-1.5b-gptq-int4-ax650/qwen2_p128_l%d_together.axmodel',
        axmodelNum: 28,
        tokenizerType: 2,
        filenameTokenizerModel: 'http://127.0.0.1:12345',
        bos: false,
        livePrint: true,
        continueLoop: true,
        prompt: 'hi',
      }),
    });
  });

  it('accepts --name=value and an empty prompt', () => {
    const outcome = parser.parse(['--prompt=', '--axmodel_num=3']);
    expect(outcome.kind === 'ok' && outcome.args.prompt === '' && outcome.args.axmodelNum === 3).toBe(true);
  });

  it.each([
    [['--prompt', '', '--system_prompt', 'x'], 'undefined option: --system_prompt\n'],
    [['--prompt', '', '--url_tokenizer_model', 'x'], 'undefined option: --url_tokenizer_model\n'],
    [['--axmodel_num', '28'], 'need option: --prompt\n'],
    [['--prompt', '', '--axmodel_num', 'many'], 'option value is invalid: --axmodel_num=many\n'],
    [['--prompt', '', '--bos', 'true'], 'option value is invalid: --bos=true\n'],
    [['--prompt'], 'option needs value: --prompt\n'],
  ])('rejects %j with status 1', (argv, message) => {
    const outcome = parser.parse(argv);
    expect(outcome.kind).toBe('exit');
    if (outcome.kind === 'exit') {
      expect(outcome.exitCode).toBe(1);
      expect(outcome.stderr.startsWith(message + 'usage: ./main_axcl_x86 --prompt=string [options] ...')).toBe(true);
    }
  });

  it('prints the usage with status 0 for --help', () => {
    expect(parser.parse(['--help'])).toEqual({ kind: 'exit', exitCode: 0, stderr: parser.usage() });
  });

  it('substitutes the layer index like sprintf', () => {
    expect(layerFilename('m/l%d_together.axmodel', 27)).toBe('m/l27_together.axmodel');
  });
});
