/**
 * Helpers for the tests of scripts/*.sh: a scratch project root holding copies of the scripts
 * (they find the project root from their own location), a local git repository playing the
 * upstream model repository, and bash runs with a controlled environment. No network.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '..', '..');

/** The files upstream ships without the executable bit. */
export const UPSTREAM_EXECUTABLES = [
  'main_axcl_aarch64',
  'main_axcl_x86',
  'run_qwen2.5_1.5b_gptq_int4_axcl_aarch64.sh',
  'run_qwen2.5_1.5b_gptq_int4_axcl_x86.sh',
];

export const LFS_POINTER = [
  'version https://git-lfs.github.com/spec/v1',
  'oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393',
  'size 1289452',
  '',
].join('\n');

const GIT_IDENTITY = {
  GIT_AUTHOR_NAME: 'fixture',
  GIT_AUTHOR_EMAIL: 'fixture@example.invalid',
  GIT_COMMITTER_NAME: 'fixture',
  GIT_COMMITTER_EMAIL: 'fixture@example.invalid',
};

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
  output: string;
}

/** A temporary directory removed by `cleanup()`. */
export class ScratchDir {
  readonly path = mkdtempSync(join(tmpdir(), 'qwen-scripts-'));

  file(relative: string, content: string, mode = 0o644): string {
    const path = join(this.path, relative);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    chmodSync(path, mode);
    return path;
  }

  cleanup(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

/** Copies the named project files (scripts, templates) into `root`, keeping their modes. */
export function copyProjectFiles(root: string, files: string[]): void {
  for (const file of files) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    copyFileSync(join(REPO_ROOT, file), join(root, file));
    chmodSync(join(root, file), statSync(join(REPO_ROOT, file)).mode & 0o777);
  }
}

/** Runs `git` with a fixed identity, failing loudly. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: { ...process.env, ...GIT_IDENTITY }, encoding: 'utf8' }).trim();
}

export interface UpstreamRepo {
  url: string;
  /** The commit playing the pinned one. */
  pinned: string;
  /** A later commit (the remote's default branch head). */
  later: string;
}

/**
 * A local repository laid out like the upstream model repository: a first commit (the "pinned"
 * one) with the runners and run scripts WITHOUT the executable bit, then a later commit.
 * `pinnedExtra` adds or replaces files in the pinned commit (e.g. an LFS pointer stub).
 */
export function makeUpstreamRepo(dir: string, pinnedExtra: Record<string, string> = {}): UpstreamRepo {
  mkdirSync(dir, { recursive: true });
  git(dir, 'init', '--quiet', '--initial-branch=main');
  const files: Record<string, string> = {
    main_axcl_aarch64: '\x7fELF fake aarch64 runner\n',
    main_axcl_x86: '\x7fELF fake x86 runner\n',
    'run_qwen2.5_1.5b_gptq_int4_axcl_aarch64.sh': '#!/bin/sh\n./main_axcl_aarch64 --prompt "$1"\n',
    'run_qwen2.5_1.5b_gptq_int4_axcl_x86.sh': '#!/bin/sh\n./main_axcl_x86 --prompt "$1"\n',
    'post_config.json': '{"enable_temperature": true, "temperature": 0.9}\n',
    'qwen2.5_tokenizer.py': 'print("tokenizer")\n',
    'qwen2.5_tokenizer/tokenizer_config.json': '{}\n',
    'qwen2.5-1.5b-gptq-int4-ax650/qwen2_post.axmodel': 'a real model file, not a pointer\n'.repeat(64),
    'qwen2.5-1.5b-gptq-int4-ax650/model.embed_tokens.weight.bfloat16.bin': 'embeddings\n'.repeat(128),
    ...pinnedExtra,
  };
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
    chmodSync(join(dir, name), 0o644);
  }
  git(dir, 'add', '--all');
  git(dir, 'commit', '--quiet', '-m', 'pinned: upstream layout');
  const pinned = git(dir, 'rev-parse', 'HEAD');
  writeFileSync(join(dir, 'README.md'), '# later upstream change\n');
  writeFileSync(join(dir, 'post_config.json'), '{"enable_temperature": false}\n');
  git(dir, 'add', '--all');
  git(dir, 'commit', '--quiet', '-m', 'later: update README');
  const later = git(dir, 'rev-parse', 'HEAD');
  return { url: `file://${dir}`, pinned, later };
}

/** A directory of symlinks to every command on PATH except `without`: PATH minus some tools. */
export function pathWithout(binDir: string, without: string[]): string {
  mkdirSync(binDir, { recursive: true });
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir || !existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      if (without.includes(name) || existsSync(join(binDir, name))) continue;
      symlinkSync(join(dir, name), join(binDir, name));
    }
  }
  return binDir;
}

/** Runs a bash script with extra environment variables; never throws on a non-zero exit. */
export function runScript(script: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): RunResult {
  const result = spawnSync('bash', [script, ...args], {
    cwd,
    env: { ...withoutQwenVariables(process.env), ...env },
    encoding: 'utf8',
    timeout: 60000,
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, output: result.stdout + result.stderr };
}

/** The environment minus QWEN_* settings of the machine running the tests. */
function withoutQwenVariables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('QWEN_')));
}
