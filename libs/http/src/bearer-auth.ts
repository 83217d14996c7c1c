import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * The token of an `Authorization: Bearer <token>` header (scheme case-insensitive, spaces or tabs
 * around the token), or null when the header is absent or is not a bearer header. The ONE parser of
 * the API keys (OpenAI and Ollama dialects) and of the admin token.
 */
export function bearerToken(header: string | undefined): string | null {
  const match = header ? /^[ \t]*Bearer[ \t]+(\S+)[ \t]*$/i.exec(header) : null;
  return match ? match[1] : null;
}

/** A set of secrets compared in constant time (hashing first makes the lengths equal); never logged. */
export class SecretSet {
  private readonly digests: Buffer[];

  constructor(secrets: readonly string[]) {
    this.digests = secrets.filter((s) => s.length > 0).map(digest);
  }

  /** No secret configured. */
  get empty(): boolean {
    return this.digests.length === 0;
  }

  /** True when `presented` is one of the secrets (every secret is compared, whatever matches first). */
  has(presented: string): boolean {
    const candidate = digest(presented);
    let ok = false;
    for (const known of this.digests) ok = timingSafeEqual(known, candidate) || ok;
    return ok;
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
