import { Controller, Get, NotFoundException, Param, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { UiPageFile, UiPageFiles } from './ui-page-files';

/**
 * The page may load its own scripts, styles and images and talk to this origin, nothing else: no
 * inline script or style, no eval, no plugin, no other site (the Pi may be offline, and the model's
 * text must never become code), and it may not be framed.
 */
export const UI_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** GET /ui: the built-in chat page; GET /ui/<file>: its scripts, style sheet and icon. */
@Controller('ui')
export class UiController {
  constructor(private readonly files: UiPageFiles) {}

  @Get()
  page(@Req() req: Request, @Res() res: Response): void {
    send(req, res, this.files.find('index.html')!);
  }

  @Get(':name')
  asset(@Param('name') name: string, @Req() req: Request, @Res() res: Response): void {
    const file = name === 'index.html' ? null : this.files.find(name);
    if (!file) throw new NotFoundException(`no file ${JSON.stringify(name)} in the chat page`);
    send(req, res, file);
  }
}

function send(req: Request, res: Response, file: UiPageFile): void {
  res.setHeader('Content-Security-Policy', UI_CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  // Revalidated every time (ETag, 304): an updated service never runs a stale script.
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('Vary', 'Accept-Encoding');
  res.type(file.contentType);
  if (req.acceptsEncodings('gzip') === 'gzip') {
    res.setHeader('Content-Encoding', 'gzip');
    res.send(file.gzipped);
  } else {
    res.send(file.body);
  }
}
