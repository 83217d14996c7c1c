import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { ConfigStore } from '@qwen/config';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Name of the generated admin token's file inside paths.runDir. */
export const ADMIN_TOKEN_FILE = 'admin-token';

/**
 * The token every admin request must present. The configured one (server.adminToken /
 * QWEN_ADMIN_TOKEN) when there is one; otherwise a token generated at the first start and kept
 * in `<runDir>/admin-token` (mode 0600, its directory 0700), so the admin API is never open to
 * whoever can reach the port — a browser on this host included. The log says where the file is,
 * never the token itself. Read at each request: POST /admin/reload applies a changed token.
 */
@Injectable()
export class AdminToken implements OnModuleInit {
  private readonly logger = new Logger('AdminToken');
  private generated: string | null = null;

  constructor(private readonly config: ConfigStore) {}

  onModuleInit(): void {
    if (this.config.current().server.adminToken) {
      this.logger.log('admin API: requires the configured admin token (server.adminToken)');
      return;
    }
    const file = this.file();
    const created = this.loadOrCreate(file);
    this.logger.log(
      `admin API: no server.adminToken configured; ${created ? 'generated a token in' : 'using the token in'} ${file} (mode 0600) — ` +
        `send it as "Authorization: Bearer $(cat ${file})"`,
    );
  }

  /** The token expected now. */
  current(): string {
    const configured = this.config.current().server.adminToken;
    if (configured) return configured;
    if (this.generated === null) this.loadOrCreate(this.file());
    return this.generated as string;
  }

  private file(): string {
    return join(resolve(this.config.current().paths.runDir), ADMIN_TOKEN_FILE);
  }

  /** Reads the token file, or writes a new token when there is none; true when it was created. */
  private loadOrCreate(file: string): boolean {
    mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 });
    try {
      const existing = readFileSync(file, 'utf8').trim();
      if (existing) {
        if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
        this.generated = existing;
        return false;
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const token = randomBytes(32).toString('base64url');
    writeFileSync(file, `${token}\n`, { mode: 0o600 });
    chmodSync(file, 0o600); // an existing empty file keeps its old mode otherwise
    this.generated = token;
    return true;
  }
}
