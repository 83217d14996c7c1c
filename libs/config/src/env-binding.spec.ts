import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { AppConfig } from './app-config';
import { ENV_BINDINGS } from './config-loader';
import { envBindings } from './env-binding';
import { findInstallRoot } from './install-root';

const root = findInstallRoot(__dirname);
const declared = new Map(ENV_BINDINGS.map((b) => [b.env, b.key]));

/** `QWEN_X → key` from the `# QWEN_X …` comments at the end of the keys' lines in config/default.yaml. */
function yamlComments(text: string): { bound: Map<string, string>; elsewhere: string[] } {
  const bound = new Map<string, string>();
  const elsewhere: string[] = [];
  const path: Array<{ indent: number; key: string }> = [];
  for (const line of text.split('\n')) {
    const keyMatch = /^(\s*)([A-Za-z]\w*):/.exec(line);
    const names = [...line.matchAll(/QWEN_[A-Z_]+/g)].map((m) => m[0]);
    if (!keyMatch) {
      elsewhere.push(...names);
      continue;
    }
    const indent = keyMatch[1].length;
    while (path.length && path[path.length - 1].indent >= indent) path.pop();
    path.push({ indent, key: keyMatch[2] });
    const comment = line.includes('#') ? line.slice(line.indexOf('#')) : '';
    for (const name of [...comment.matchAll(/QWEN_[A-Z_]+/g)].map((m) => m[0])) bound.set(name, path.map((p) => p.key).join('.'));
  }
  return { bound, elsewhere };
}

/** `QWEN_X → [key, default]` from the environment-variable table of docs/configuration.md. */
function configurationTable(text: string): Map<string, [string, string]> {
  const section = text.slice(text.indexOf('## Environment variables'));
  const rows = new Map<string, [string, string]>();
  for (const line of section.slice(0, section.indexOf('\n## ', 3)).split('\n')) {
    const cells = /^\| `(QWEN_[A-Z_]+)` \| (`[^`]+`|—) \| (.*) \|$/.exec(line);
    if (cells) rows.set(cells[1], [cells[2].replace(/`/g, ''), cells[3]]);
  }
  return rows;
}

describe(envBindings.name, () => {
  it('finds every @Env declaration under its dotted key, nested sections included', () => {
    expect(envBindings(AppConfig)).toEqual(ENV_BINDINGS);
    expect(declared.get('QWEN_PORT')).toBe('server.port');
    expect(declared.get('QWEN_OLLAMA_PORT')).toBe('server.ollamaListener.port');
    expect(ENV_BINDINGS.find((b) => b.env === 'QWEN_API_KEYS')?.kind).toBe('list');
    expect(new Set(ENV_BINDINGS.map((b) => b.env)).size).toBe(ENV_BINDINGS.length);
  });

  it('config/default.yaml names each variable on the line of its key, and no other', () => {
    const { bound, elsewhere } = yamlComments(readFileSync(join(root, 'config', 'default.yaml'), 'utf8'));
    expect(Object.fromEntries(bound)).toEqual(Object.fromEntries(declared));
    expect(elsewhere.filter((name) => name !== 'QWEN_CONFIG')).toEqual([]);
  });

  it("docs/configuration.md's table lists each variable with its key and the default of config/default.yaml", () => {
    const rows = configurationTable(readFileSync(join(root, 'docs', 'configuration.md'), 'utf8'));
    expect(rows.get('QWEN_CONFIG')?.[0]).toBe('—');
    rows.delete('QWEN_CONFIG');
    expect(Object.fromEntries([...rows].map(([env, [key]]) => [env, key]))).toEqual(Object.fromEntries(declared));
    const defaults = parse(readFileSync(join(root, 'config', 'default.yaml'), 'utf8')) as Record<string, unknown>;
    for (const [env, [key, shown]] of rows) {
      const value = key.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], defaults);
      if (/^`[^`]*`$/.test(shown)) expect(`${env}=${shown.slice(1, -1)}`).toBe(`${env}=${String(value)}`);
    }
  });
});
