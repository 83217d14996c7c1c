/**
 * scripts/download_models.sh against a local git repository playing the upstream model
 * repository (file:// URL: no network, no LFS server; the files are real files).
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  copyProjectFiles,
  git,
  LFS_POINTER,
  makeUpstreamRepo,
  pathWithout,
  runScript,
  ScratchDir,
  UPSTREAM_EXECUTABLES,
  UpstreamRepo,
} from './script-fixtures';

jest.setTimeout(60000);

const MODEL_DIR = 'models/Qwen2.5-1.5B-Instruct-GPTQ-Int4';

/** mtime and mode of every file under `dir`, .git excluded, keyed by relative path. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (current: string): void => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      if (entry.name === '.git') continue;
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path);
      else {
        const stat = statSync(path);
        out[relative(dir, path)] = `${stat.mtimeMs}:${stat.mode.toString(8)}`;
      }
    }
  };
  walk(dir);
  return out;
}

function isExecutable(path: string): boolean {
  return (statSync(path).mode & 0o111) === 0o111;
}

describe('scripts/download_models.sh', () => {
  let scratch: ScratchDir;
  let root: string;
  let script: string;
  let upstream: UpstreamRepo;
  let modelDir: string;

  const download = (extraEnv: NodeJS.ProcessEnv = {}, repo: UpstreamRepo = upstream) =>
    runScript(script, [], { QWEN_MODEL_REPO_URL: repo.url, QWEN_MODEL_COMMIT: repo.pinned, ...extraEnv });

  beforeEach(() => {
    scratch = new ScratchDir();
    root = join(scratch.path, 'project');
    copyProjectFiles(root, ['scripts/download_models.sh']);
    script = join(root, 'scripts/download_models.sh');
    upstream = makeUpstreamRepo(join(scratch.path, 'upstream'));
    modelDir = join(root, MODEL_DIR);
  });
  afterEach(() => scratch.cleanup());

  it('clones the pinned commit (not the newer head) and makes the runners and run scripts executable', () => {
    const result = download();

    expect(result.status).toBe(0);
    expect(git(modelDir, 'rev-parse', 'HEAD')).toBe(upstream.pinned);
    expect(existsSync(join(modelDir, 'README.md'))).toBe(false); // only in the later commit
    for (const name of UPSTREAM_EXECUTABLES) expect(isExecutable(join(modelDir, name))).toBe(true);
    expect(isExecutable(join(modelDir, 'post_config.json'))).toBe(false);
    expect(existsSync(`${modelDir}.partial`)).toBe(false);
    expect(result.stdout).toMatch(/made main_axcl_aarch64 executable/);
    expect(result.stdout).toContain(`is at ${upstream.pinned}`);
    // The bits we set are not local changes that would block a later checkout.
    expect(git(modelDir, 'status', '--porcelain')).toBe('');
  });

  it('changes nothing on a second run and says so', () => {
    expect(download().status).toBe(0);
    const before = snapshot(modelDir);
    const headBefore = git(modelDir, 'rev-parse', 'HEAD');

    const second = download();

    expect(second.status).toBe(0);
    expect(second.stdout).toMatch(/nothing to do/);
    expect(second.stdout).not.toMatch(/cloning|moving|made .* executable/);
    expect(git(modelDir, 'rev-parse', 'HEAD')).toBe(headBefore);
    expect(snapshot(modelDir)).toEqual(before);
  });

  it('moves an existing clone at another commit to the pinned one', () => {
    mkdirSync(join(root, 'models'), { recursive: true });
    git(join(root, 'models'), 'clone', '--quiet', upstream.url, modelDir);
    expect(git(modelDir, 'rev-parse', 'HEAD')).toBe(upstream.later);

    const result = download();

    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`moving ${MODEL_DIR} from ${upstream.later} to the pinned commit ${upstream.pinned}`);
    expect(git(modelDir, 'rev-parse', 'HEAD')).toBe(upstream.pinned);
    expect(existsSync(join(modelDir, 'README.md'))).toBe(false);
    for (const name of UPSTREAM_EXECUTABLES) expect(isExecutable(join(modelDir, name))).toBe(true);
  });

  it('resumes after an interrupted run: drops a half-made clone and restores deleted files', () => {
    mkdirSync(`${modelDir}.partial/.git`, { recursive: true }); // what a killed `git clone` leaves
    expect(download().status).toBe(0);
    expect(existsSync(`${modelDir}.partial`)).toBe(false);

    const removed = join(modelDir, 'qwen2.5-1.5b-gptq-int4-ax650/qwen2_post.axmodel');
    rmSync(removed);

    const again = download();

    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/restoring 1 missing file/);
    expect(existsSync(removed)).toBe(true);
    expect(git(modelDir, 'rev-parse', 'HEAD')).toBe(upstream.pinned);
  });

  it('rejects a model file that is an LFS pointer stub, with a clear message and a non-zero exit', () => {
    const stubbed = makeUpstreamRepo(join(scratch.path, 'upstream-with-pointer'), {
      'qwen2.5-1.5b-gptq-int4-ax650/qwen2_p128_l0_together.axmodel': LFS_POINTER,
    });

    const result = download({}, stubbed);

    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/git-lfs pointer stubs, not the real files/);
    expect(result.stderr).toContain('qwen2.5-1.5b-gptq-int4-ax650/qwen2_p128_l0_together.axmodel');
    expect(result.stderr).toMatch(/git lfs install/);
    expect(result.stdout).not.toMatch(/done:|nothing to do/);
  });

  it('explains how to install git-lfs when it is missing, and touches nothing', () => {
    const bin = pathWithout(join(scratch.path, 'bin-without-lfs'), ['git-lfs']);

    const result = download({ PATH: bin });

    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/git-lfs is not installed/);
    expect(result.stderr).toContain('sudo apt install git git-lfs && git lfs install');
    expect(existsSync(join(root, 'models'))).toBe(false);
  });

  it('refuses a commit id that is not a full hash', () => {
    const result = download({ QWEN_MODEL_COMMIT: 'main' });

    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/full 40-character commit id/);
  });
});
