/**
 * Prints the base URL the service listens on with the configuration it would load now (the same
 * loader and precedence: QWEN_* variables, the QWEN_CONFIG file, config/default.yaml), e.g.
 * `http://127.0.0.1:9000`. Used by scripts/setup.sh to print a check that uses the configured port.
 */
import { findInstallRoot, loadAppConfig } from '@qwen/config';
import { join } from 'node:path';

const config = loadAppConfig({ env: process.env, cwd: process.cwd(), defaultsFile: join(findInstallRoot(__dirname), 'config', 'default.yaml') });
const { host, port } = config.server;
// A wildcard bind address is reached on this machine through loopback.
const reachable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
process.stdout.write(`http://${reachable}:${port}\n`);
