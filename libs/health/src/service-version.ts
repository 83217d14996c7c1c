import { findInstallRoot } from '@qwen/config';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The `version` of the installation's package.json ('unknown' if it cannot be read). */
export function readServiceVersion(from: string = __dirname): string {
  try {
    const pkg = JSON.parse(readFileSync(join(findInstallRoot(from), 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
