/**
 * scripts/setup.sh without root and without network: --help, the prerequisite checks (fake
 * `node`, missing build tools), and the development mode with a fake `npm` that records its
 * calls (so nothing is installed), including the never-overwritten config/local.yaml.
 * Also checks that the local.yaml template's examples are a valid configuration.
 */
import { loadAppConfig } from '@qwen/config';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { copyProjectFiles, pathWithout, REPO_ROOT, runScript, ScratchDir } from './script-fixtures';

jest.setTimeout(60000);

const TEMPLATE = 'deploy/config/local.example.yaml';

describe('scripts/setup.sh', () => {
  let scratch: ScratchDir;
  let root: string;
  let script: string;
  let bin: string;
  let npmLog: string;

  /** Puts a fake command in the test's bin directory (first on PATH). */
  const fake = (name: string, body: string) => scratch.file(`bin/${name}`, `#!/usr/bin/env bash\n${body}\n`, 0o755);
  const setup = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    runScript(script, args, { PATH: `${bin}:${process.env.PATH}`, ...env });

  beforeEach(() => {
    scratch = new ScratchDir();
    root = join(scratch.path, 'project');
    copyProjectFiles(root, ['scripts/setup.sh', 'scripts/download_models.sh', 'config/default.yaml', TEMPLATE]);
    script = join(root, 'scripts/setup.sh');
    bin = join(scratch.path, 'bin');
    npmLog = join(scratch.path, 'npm-calls.log');
    fake('node', 'echo v20.11.1');
    fake('npm', `[ "$1" = --version ] && { echo 10.2.4; exit 0; }\necho "$PWD: $*" >> '${npmLog}'`);
    for (const tool of ['g++', 'make', 'python3']) fake(tool, 'exit 0');
  });
  afterEach(() => scratch.cleanup());

  it('prints its usage with --help and exits 0', () => {
    const result = setup(['--help']);

    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/Usage: scripts\/setup\.sh/);
    for (const option of ['--system', '--prefix DIR', '--skip-models', '--no-start']) expect(result.stdout).toContain(option);
    expect(existsSync(npmLog)).toBe(false);
  });

  it('rejects an unknown option', () => {
    const result = setup(['--sytem']);

    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/unknown option: --sytem/);
  });

  it('reports a too-old Node.js with how to install a new one, before doing anything', () => {
    fake('node', 'echo v18.19.0');

    const result = setup(['--skip-models']);

    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/Node\.js v18\.19\.0 is too old: qwen-chat needs Node\.js >= 20/);
    expect(result.stderr).toContain('https://deb.nodesource.com/setup_20.x');
    expect(existsSync(npmLog)).toBe(false);
  });

  it('says which apt packages to install when the build tools and git-lfs are missing', () => {
    const minimal = join(scratch.path, 'bin-minimal');
    scratch.file('bin-minimal/node', '#!/usr/bin/env bash\necho v20.11.1\n', 0o755);
    scratch.file('bin-minimal/npm', `#!/usr/bin/env bash\necho "$*" >> '${npmLog}'\n`, 0o755);
    pathWithout(minimal, ['g++', 'make', 'git-lfs']);

    const result = runScript(script, [], { PATH: minimal });

    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('sudo apt install -y build-essential git-lfs && git lfs install');
    expect(existsSync(npmLog)).toBe(false);
  });

  it('development mode: npm ci, build, and config/local.yaml from the template, never overwritten', () => {
    const first = setup(['--skip-models']);

    expect(first.status).toBe(0);
    expect(readFileSync(npmLog, 'utf8').trim().split('\n')).toEqual([`${root}: ci --no-audit --no-fund`, `${root}: run build`]);
    expect(first.stdout).toMatch(/skipping the model download/);
    const local = join(root, 'config/local.yaml');
    expect(readFileSync(local, 'utf8')).toBe(readFileSync(join(root, TEMPLATE), 'utf8'));
    expect(first.stdout).toContain(`created ${local}`);
    // Without the model it is not ready: it says what is missing and how to get it.
    expect(first.stdout).not.toMatch(/^Ready\./m);
    expect(first.stdout).toContain('the model was not downloaded (--skip-models)');
    expect(first.stdout).toContain('./scripts/download_models.sh');

    writeFileSync(local, 'server:\n  port: 9090\n');
    const second = setup(['--skip-models']);

    expect(second.status).toBe(0);
    expect(second.stdout).toContain(`keeping the existing ${local}`);
    expect(readFileSync(local, 'utf8')).toBe('server:\n  port: 9090\n');
  });

  it('stops when npm ci fails, with the reason', () => {
    fake('npm', '[ "$1" = --version ] && { echo 10.2.4; exit 0; }\necho "npm ERR! network" >&2; exit 1');

    const result = setup(['--skip-models']);

    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/npm ERR! network/);
    expect(result.stderr).toMatch(/npm ci failed/);
    expect(existsSync(join(root, 'config/local.yaml'))).toBe(false);
  });
});

describe('deploy/config/local.example.yaml', () => {
  it('is an empty override as shipped, and its examples, uncommented, are a valid configuration', () => {
    const template = readFileSync(join(REPO_ROOT, TEMPLATE), 'utf8');
    // The examples follow the header block (up to the first blank line): uncomment them.
    const examples = template
      .slice(template.indexOf('\n\n') + 2)
      .split('\n')
      .map((line) => line.replace(/^# ?/, ''))
      .join('\n');
    const scratch = new ScratchDir();
    try {
      const defaultsFile = join(REPO_ROOT, 'config/default.yaml');
      scratch.file('shipped.yaml', template);
      scratch.file('uncommented.yaml', examples);

      const shipped = loadAppConfig({ env: { QWEN_CONFIG: 'shipped.yaml' }, cwd: scratch.path, defaultsFile });
      const edited = loadAppConfig({ env: { QWEN_CONFIG: 'uncommented.yaml' }, cwd: scratch.path, defaultsFile });

      expect(shipped.server.port).toBe(8080);
      expect(edited.server.apiKeys).toEqual(['change-me-to-a-long-random-string']);
      expect(edited.server.ollamaListener.enabled).toBe(true);
      expect(edited.logging.level).toBe('log');
    } finally {
      scratch.cleanup();
    }
  });
});
