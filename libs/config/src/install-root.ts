import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The installation's root: the nearest directory above `from` holding config/default.yaml.
 * Works from the TypeScript sources (tests) and from dist/ (production) alike.
 */
export function findInstallRoot(from: string = __dirname): string {
  let dir = from;
  for (;;) {
    if (existsSync(join(dir, 'config', 'default.yaml')) && existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find config/default.yaml above ${from}`);
    dir = parent;
  }
}
