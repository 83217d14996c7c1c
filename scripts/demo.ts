/**
 * `npm run demo`: the real service against the runner emulator, no card needed.
 * Builds an emulated model directory (.cache/emulated-model, laid out like the upstream repository)
 * and starts the service with it, the bundled Qwen2.5 tokenizer and a realistic token rate.
 * Settings can still be overridden with the usual QWEN_* variables (e.g. QWEN_PORT=9000).
 */
import { findInstallRoot } from '@qwen/config';
import { join } from 'node:path';
import { createEmulatedModelDir } from './make-emulated-model';

async function demo(): Promise<void> {
  const root = findInstallRoot(__dirname);
  const modelDir = process.env.QWEN_MODEL_DIR ?? join(root, '.cache', 'emulated-model');
  await createEmulatedModelDir({ target: modelDir });
  process.env.QWEN_MODEL_DIR = modelDir;
  process.env.QWEN_LOG_DIR ??= join(root, '.cache', 'demo-logs');
  process.env.QWEN_RUN_DIR ??= join(root, '.cache', 'demo-run');
  // The emulator's speed: a short load and ~14 tokens/s for prompt and output, like the card on a Pi 5.
  process.env.QWEN_EMU_LOAD_MS ??= '3000';
  process.env.QWEN_EMU_TOKEN_MS ??= '71';
  process.stdout.write(`qwen-chat demo: emulated model directory ${modelDir}; runner and tokenizer logs in ${process.env.QWEN_LOG_DIR}\n`);
  // The service itself, exactly as in production (it reads the environment set above).
  await import('../apps/qwen-chat/src/main');
}

demo().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${(error as Error).message}\n`);
  process.exit(1);
});
