/** Why the runner failed to start, as an operator needs it: the runner's or the card's own line, and what to do. */
export interface RunnerFailureCause {
  /** The line quoted (the most telling one the runner printed). */
  quote: string;
  /** One line: what to check or do. */
  hint: string;
  /** The card itself cannot be used (no permission, no driver): restarting the runner will not help. */
  deviceLevel: boolean;
}

interface CauseRule {
  pattern: RegExp;
  hint: string;
  deviceLevel: boolean;
}

/**
 * Known causes, most specific first (docs/runner-protocol.md, "Start-up failures"; docs/troubleshooting.md).
 * The group that owns the card's device files is not verified on a real card: the hint says how to see it.
 */
const RULES: readonly CauseRule[] = [
  {
    pattern: /request ports from device \d+ fail.*Operation not permitted|Set AXCL device failed\{0x80300186\}/,
    hint:
      'the service user may not open the card: give it access to the device files (`ls -l /dev/axcl*` shows their group; ' +
      'add the user with `sudo usermod -aG <group> <user>` and restart the service — the group name is not verified), or run the service as root',
    deviceLevel: true,
  },
  {
    pattern: /open \/dev\/axcl_host fail|axcl init fail/,
    hint: 'the AXCL driver is not loaded: check `lsmod | grep -i axcl` and `ls /dev/axcl*`; install or load the driver from the card vendor\'s documentation, then POST /admin/reload',
    deviceLevel: true,
  },
  {
    pattern: /init (post )?axmodel\(.*\) failed|embed_selector\.Init\(.*\) failed|tokenizer\.Init\(.*\) failed/,
    hint: 'a model file is missing or unreadable (or the card is absent): run scripts/download_models.sh, then POST /admin/reload',
    deviceLevel: false,
  },
];

/** An `[E]` record or a runtime line at level E (`[date][pid][E][…]`). */
const ERROR_LINE = /^\[E\]|^\[[^\]]*\]\[\d+\]\[E\]/;

/**
 * Picks the cause of a failed start from what the runner printed while loading (plain lines and
 * `[E]` records as `[E][fn][line]: text`): the first line a known cause matches, else the first `[E]` line.
 */
export function explainRunnerFailure(lines: readonly string[]): RunnerFailureCause | null {
  for (const rule of RULES) {
    const quote = lines.find((line) => rule.pattern.test(line));
    if (quote) return { quote, hint: rule.hint, deviceLevel: rule.deviceLevel };
  }
  const error = lines.find((line) => ERROR_LINE.test(line));
  return error ? { quote: error, hint: 'see model.log for the runner\'s full output', deviceLevel: false } : null;
}

/** The hint for a runner binary that cannot be started at all (ENOENT, EACCES). */
export function launchFailureHint(message: string): string | null {
  if (/ENOENT|no such file/i.test(message)) return 'the model is not downloaded (or paths.modelDir / QWEN_MODEL_DIR points elsewhere): run scripts/download_models.sh';
  if (/EACCES|permission denied/i.test(message)) return 'the runner binary is not executable: chmod +x it (scripts/download_models.sh does)';
  return null;
}
