import { Injectable } from '@nestjs/common';
import { get } from 'node:http';

/** null = the tokenizer answered; otherwise why it did not. */
export type ProbeFailure = string | null;

/**
 * Asks the tokenizer `GET /bos_id`, the first call the runner makes and the one that must work
 * in both modes (the upstream server has no /health). Plain node:http: one small request, no retry.
 */
@Injectable()
export class TokenizerProbe {
  bosId(host: string, port: number, timeoutMs: number): Promise<ProbeFailure> {
    return new Promise((resolve) => {
      let settled = false;
      const done = (failure: ProbeFailure): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        request.destroy();
        resolve(failure);
      };
      const timer = setTimeout(() => done(`GET /bos_id timed out after ${timeoutMs} ms`), timeoutMs);
      const request = get({ host, port, path: '/bos_id', agent: false, headers: { connection: 'close' } }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => {
          if (response.statusCode !== 200) return done(`GET /bos_id answered ${response.statusCode}`);
          try {
            const parsed = JSON.parse(body) as { bos_id?: unknown };
            done(Number.isInteger(parsed.bos_id) ? null : 'GET /bos_id answered without an integer bos_id');
          } catch {
            done('GET /bos_id answered something that is not JSON');
          }
        });
        response.on('error', (error) => done(`GET /bos_id failed: ${error.message}`));
      });
      request.on('error', (error) => done(`GET /bos_id failed: ${(error as NodeJS.ErrnoException).code ?? error.message}`));
    });
  }
}
