import { Browser, chromium } from 'playwright-core';

/** Debian's chromium package (installed by .ci/run when missing). */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Headless Chromium for the chat page tests: no sandbox (CI containers), no network of its own. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
