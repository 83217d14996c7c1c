import { Injectable } from '@nestjs/common';
import { findInstallRoot } from '@qwen/config';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** One file of the chat page, read once at start-up. */
export interface UiPageFile {
  contentType: string;
  body: Buffer;
  /** The same bytes gzip-compressed (the page is served from a Pi, often over Wi-Fi). */
  gzipped: Buffer;
}

/** The chat page's files: `libs/ui/static/<name>`, the only names served under /ui. */
export const UI_PAGE_FILE_TYPES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'markdown.js': 'text/javascript; charset=utf-8',
  'sse.js': 'text/javascript; charset=utf-8',
  'icon.svg': 'image/svg+xml',
};

/**
 * Reads the chat page's static files from the installation (`libs/ui/static`, bundled in the
 * repository and copied with it by scripts/setup.sh) once, so a request never touches the disk and
 * a missing file stops the service at start-up instead of answering 404 later.
 */
@Injectable()
export class UiPageFiles {
  private readonly files = new Map<string, UiPageFile>();

  constructor() {
    const dir = join(findInstallRoot(__dirname), 'libs', 'ui', 'static');
    for (const [name, contentType] of Object.entries(UI_PAGE_FILE_TYPES)) {
      const body = readFileSync(join(dir, name));
      this.files.set(name, { contentType, body, gzipped: gzipSync(body) });
    }
  }

  /** The file of that name, or null when it is not part of the page. */
  find(name: string): UiPageFile | null {
    return this.files.get(name) ?? null;
  }
}
