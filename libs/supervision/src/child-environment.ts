/** Variables a child process may inherit by name (locale, paths, the runtime's own settings). */
const INHERITED = new Set(['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LANGUAGE', 'TZ', 'TMPDIR', 'TERM', 'LD_LIBRARY_PATH', 'PYTHONPATH', 'PYTHONHOME', 'VIRTUAL_ENV', 'PYENV_ROOT', 'PYENV_VERSION']);
/** …and by prefix: locale categories, the card's driver settings, the runner emulator's settings (tests, demo). */
const INHERITED_PREFIXES = ['LC_', 'AXCL_', 'QWEN_EMU_'];

/**
 * The environment of a child process (the runner, the tokenizer): only what a program needs to run,
 * never the service's secrets or configuration (QWEN_API_KEYS, QWEN_ADMIN_TOKEN, cloud credentials…),
 * which a child has no use for and could leak (core dumps, /proc/<pid>/environ, its own logs).
 * `extra` is added as given.
 */
export function childEnvironment(env: NodeJS.ProcessEnv, extra: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && (INHERITED.has(name) || INHERITED_PREFIXES.some((prefix) => name.startsWith(prefix)))) out[name] = value;
  }
  return { ...out, ...extra };
}
