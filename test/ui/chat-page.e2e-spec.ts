/**
 * The chat page (/ui) in headless Chromium against the REAL service, tokenizer server and runner
 * emulator. The emulator answers with the last user message, so each test chooses the answer.
 * Requires `npm run build` and /usr/bin/chromium. With QWEN_UI_SCREENSHOT=docs/ui-screenshot.png the
 * page is also photographed for the README.
 */
import { TestService, startTestService } from '@qwen/testing';
import { writeFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from './chromium';

jest.setTimeout(60000);

/**
 * The browser globals the page callbacks below use (they run in the page): declared in this module
 * only, as the project compiles without the DOM library.
 */
interface PageElement {
  textContent: string | null;
  getBoundingClientRect(): { left: number; right: number };
  appendChild(child: PageElement): void;
  remove(): void;
}
interface PageWindow {
  document: {
    querySelector(selector: string): PageElement | null;
    createElement(tag: string): PageElement;
    body: PageElement;
    documentElement: { scrollWidth: number };
  };
  localStorage: { getItem(key: string): string | null; setItem(key: string, value: string): void };
  __pwned?: boolean;
  __inline?: boolean;
  __waitingTexts?: string[];
  MutationObserver: new (callback: () => void) => { observe(target: PageElement, options: { childList: boolean; characterData: boolean; subtree: boolean }): void };
}
declare const window: PageWindow;
declare const document: PageWindow['document'];
declare const localStorage: PageWindow['localStorage'];

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(() => browser?.close());

/** A fresh browser profile (empty localStorage) on the page, recording dialogs and page errors. */
async function openPage(url: string, viewport = { width: 1100, height: 720 }): Promise<{ context: BrowserContext; page: Page; dialogs: string[]; errors: string[] }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const dialogs: string[] = [];
  const errors: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  await page.goto(`${url}/ui`);
  return { context, page, dialogs, errors };
}

async function send(page: Page, text: string): Promise<void> {
  await page.fill('#input', text);
  await page.press('#input', 'Enter');
}

/** Waits until the last answer is complete (its meta line is rendered once the stream ended). */
async function lastAnswer(page: Page): Promise<{ text: string; meta: string }> {
  await page.waitForSelector('.message.assistant:last-child:not(.streaming) .meta');
  return page.$eval('.message.assistant:last-child', (el) => ({
    text: el.querySelector('.content')!.textContent ?? '',
    meta: el.querySelector('.meta span')!.textContent ?? '',
  }));
}

describe('chat page against the real service and the runner emulator', () => {
  let service: TestService;
  let page: Page;
  let context: BrowserContext;
  let dialogs: string[];
  let errors: string[];

  beforeAll(async () => {
    // The model takes 4 s to load, so the page sees it; 20 ms per token, so an answer streams visibly.
    service = await startTestService({ waitReady: false, emulatorEnv: { QWEN_EMU_LOAD_MS: '4000', QWEN_EMU_TOKEN_MS: '20' } });
    ({ page, context, dialogs, errors } = await openPage(service.url));
  });
  afterAll(async () => {
    await context?.close();
    await service?.close();
  });
  afterEach(() => {
    expect(errors).toEqual([]);
  });

  it('shows the model loading with its progress, then ready, with the sampling the runner loaded', async () => {
    await page.waitForSelector('#model-state[data-state="loading"] #load-progress:not([hidden])');
    expect(await page.textContent('#model-state-text')).toMatch(/^loading \d+\/\d+$/);
    await page.waitForSelector('#model-state[data-state="ready"]', { timeout: 30000 });
    expect(await page.textContent('#model-state-text')).toBe('ready');
    expect(await page.isHidden('#load-progress')).toBe(true);
    await page.waitForFunction(() => document.querySelector('#sampling')?.textContent === 'sampling: temperature=0.9; top_k=10');
    expect(await page.textContent('#context-text')).toBe('– / 1024');
    // The page lives at /ui; the root still belongs to Ollama clients.
    expect(await (await fetch(`${service.url}/`)).text()).toBe('Ollama is running');
  });

  it('streams an answer as it is generated, renders its Markdown, and shows usage, speed and sampling', async () => {
    await service.waitForModel((s) => s.state === 'ready', 'the model to be ready');
    const text = 'Hello **bold** and `code`, then a longer tail so that the answer takes a while to stream to the page.';
    await send(page, text);
    // Part of the answer is on the page while the stream is still open.
    await page.waitForFunction(() => {
      const streaming = document.querySelector('.message.assistant.streaming .content');
      return streaming !== null && (streaming.textContent ?? '').length > 0;
    });
    const answer = await lastAnswer(page);
    expect(answer.text).toBe('Hello bold and code, then a longer tail so that the answer takes a while to stream to the page.');
    expect(await page.textContent('.message.assistant:last-child strong')).toBe('bold');
    expect(await page.textContent('.message.assistant:last-child .content code')).toBe('code');
    expect(await page.$$eval('.message.user', (nodes) => nodes.at(-1)?.textContent)).toBe(text);
    expect(answer.meta).toMatch(/^\d+ tokens · \d+\.\d tok\/s$/);
    expect(await page.textContent('#context-text')).toMatch(/^\d{2,} \/ 1024$/);
    expect(await page.textContent('#speed')).toMatch(/^\d+\.\d tok\/s$/);
    expect(await page.textContent('#sampling')).toBe('sampling: temperature=0.9; top_k=10');
    expect(await page.isHidden('#waiting')).toBe(true);
    expect(await page.isHidden('#truncated-warning')).toBe(true);
  });

  it('shows an answer containing HTML as text: no element created, no script run, no dialog', async () => {
    await service.waitForModel((s) => s.state === 'ready', 'the model to be ready');
    const text = 'Look: <img src=x onerror=alert(1)> and <script>alert(2); window.__pwned = true</script> and [a link](javascript:alert(3))';
    await send(page, text);
    const answer = await lastAnswer(page);
    expect(answer.text).toContain('<img src=x onerror=alert(1)>');
    expect(answer.text).toContain('<script>alert(2); window.__pwned = true</script>');
    expect(await page.$$eval('#messages img, #messages script, #messages a', (nodes) => nodes.length)).toBe(0);
    expect(await page.evaluate(() => window.__pwned)).toBeUndefined();
    expect(dialogs).toEqual([]);
    // The Content-Security-Policy is in force: even a script element added to the page does not run.
    expect(
      await page.evaluate(() => {
        const script = document.createElement('script');
        script.textContent = 'window.__inline = true';
        document.body.appendChild(script);
        script.remove();
        return window.__inline;
      }),
    ).toBeUndefined();
    errors.length = 0; // the refused script is reported on the console
  });

  it('renders headings, lists, quotes, tables and fenced code as elements, the code kept exactly', async () => {
    await service.waitForModel((s) => s.state === 'ready', 'the model to be ready');
    const code = 'if (a < b && c > d) {\n  print("<b>not bold</b>");\n}';
    const text = ['## Title', '', '- one', '- **two**', '', '1. first', '2. second', '', '> quoted', '', '| a | b |', '|---|---|', '| 1 | 2 |', '', '```js', code, '```', '', 'end'].join('\n');
    await page.fill('#input', text);
    await page.click('#send');
    await lastAnswer(page);
    const structure = await page.$$eval('.message.assistant:last-child .content > *', (children) =>
      children.map((child) => `${child.tagName.toLowerCase()}:${child.textContent}`),
    );
    expect(structure).toEqual(['h4:Title', 'ul:onetwo', 'ol:firstsecond', 'blockquote:quoted', 'div:ab12', `div:jscopy${code}`, 'p:end']);
    expect(await page.textContent('.message.assistant:last-child pre code')).toBe(code);
    expect(await page.textContent('.message.assistant:last-child li strong')).toBe('two');
    expect(await page.$$eval('.message.assistant:last-child td', (cells) => cells.map((c) => c.textContent))).toEqual(['1', '2']);
    expect(await page.$$eval('#messages b', (nodes) => nodes.length)).toBe(0);
  });

  it('Stop aborts the request, the runner is Ctrl-C\'d and free long before the whole answer; Regenerate asks again', async () => {
    await service.waitForModel((s) => s.state === 'ready', 'the model to be ready');
    // The answer is the message 200 times: ~1,000 tokens at 20 ms, about 20 s unless stopped.
    writeFileSync(service.faultFile, JSON.stringify({ repeat: 200 }));
    await send(page, 'a long answer that repeats');
    await page.waitForFunction(() => (document.querySelector('.message.assistant.streaming .content')?.textContent ?? '').length > 40);
    expect(service.model.snapshot().state).toBe('busy');
    await page.click('#stop');
    const stoppedAt = Date.now();
    await service.waitForModel((s) => s.state === 'ready' && s.queue.inFlight === 0, 'the stopped generation to end', 5000);
    expect(Date.now() - stoppedAt).toBeLessThan(5000);
    const stopped = await lastAnswer(page);
    expect(stopped.meta).toBe('stopped');
    expect(stopped.text.length).toBeLessThan('a long answer that repeats'.length * 100);
    expect(await page.isVisible('#send')).toBe(true);

    await page.click('.message.assistant:last-child .regenerate');
    const again = await lastAnswer(page);
    expect(again.text).toBe('a long answer that repeats');
    expect(await page.$$eval('.message', (nodes) => nodes.length)).toBe(8);
  });

  it('keeps several conversations and their system prompts in the browser across a reload', async () => {
    await page.click('#new-chat');
    expect(await page.$$eval('#messages .message', (nodes) => nodes.length)).toBe(0);
    await page.click('#system-box summary');
    await page.fill('#system-prompt', 'You are terse.');
    await send(page, 'second conversation');
    expect((await lastAnswer(page)).text).toBe('second conversation');
    await page.reload();
    await page.waitForSelector('.message.assistant .meta');
    expect(await page.inputValue('#system-prompt')).toBe('You are terse.');
    expect(await page.$$eval('#conversations li', (nodes) => nodes.map((n) => n.textContent))).toEqual(['second conversation×', 'Hello **bold** and `code`, then a longer tail so×']);
    await page.click('#conversations li:nth-child(2) .open');
    expect(await page.$$eval('#messages .message', (nodes) => nodes.length)).toBe(8);
    expect(await page.inputValue('#system-prompt')).toBe('');
  });

  it('warns when the server dropped old messages to fit the window', async () => {
    await page.click('#new-chat');
    const long = 'word '.repeat(300);
    await page.evaluate((content) => {
      const conversations = JSON.parse(localStorage.getItem('qwen-ui.conversations') ?? '[]');
      const current = conversations.find((c: { id: string }) => c.id === localStorage.getItem('qwen-ui.current'));
      for (let i = 0; i < 3; i++) current.messages.push({ role: 'user', content }, { role: 'assistant', content });
      localStorage.setItem('qwen-ui.conversations', JSON.stringify(conversations));
    }, long);
    await page.reload();
    await send(page, 'still there?');
    expect((await lastAnswer(page)).text).toBe('still there?');
    expect(await page.textContent('#truncated-warning')).toMatch(/^The conversation no longer fits the 1024-token window: the \d+ oldest messages were not sent to the model/);
    expect(Number((await page.textContent('#context-text'))!.split(' ')[0])).toBeGreaterThan(500);
  });

  // The README's picture: a stored conversation as a user would have it (the emulator only echoes).
  // Always rendered and checked; written to docs/ only when QWEN_UI_SCREENSHOT names the file.
  it('renders a stored conversation with its code block, as the README picture shows', async () => {
    await page.evaluate(() => {
      const answer = [
        'Use a `with` block, so the file is closed even on errors:',
        '',
        '```python',
        'with open("notes.txt", encoding="utf-8") as f:',
        '    for line in f:',
        '        print(line.rstrip())',
        '```',
        '',
        '- `encoding="utf-8"` avoids surprises on other systems;',
        '- iterating over `f` reads **one line at a time**, so big files are fine.',
      ].join('\n');
      const conversation = {
        id: 'readme',
        title: 'Read a file line by line in Python',
        system: 'You are a concise programming assistant.',
        updatedAt: Date.now(),
        messages: [
          { role: 'user', content: 'How do I read a text file line by line in Python?' },
          { role: 'assistant', content: answer, meta: { usage: { prompt_tokens: 41, completion_tokens: 88, total_tokens: 129 }, tokensPerSecond: 14.2, sampling: 'temperature=0.9; top_k=10' } },
        ],
      };
      const earlier = (title: string, hoursAgo: number) => ({
        id: title,
        title,
        system: '',
        updatedAt: Date.now() - hoursAgo * 3600000,
        messages: [{ role: 'user', content: title }],
      });
      const conversations = [conversation, earlier('Summarise this e-mail for me', 2), earlier('A haiku about the Raspberry Pi', 26)];
      localStorage.setItem('qwen-ui.conversations', JSON.stringify(conversations));
      localStorage.setItem('qwen-ui.current', 'readme');
    });
    await page.setViewportSize({ width: 1000, height: 640 });
    await page.reload();
    await page.waitForSelector('#model-state[data-state="ready"]');
    await page.waitForSelector('.code-block');
    expect(await page.locator('.code-block').first().textContent()).toContain('with open("notes.txt", encoding="utf-8") as f:');
    const png = await page.screenshot(process.env.QWEN_UI_SCREENSHOT ? { path: process.env.QWEN_UI_SCREENSHOT } : {});
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
  });
});

describe('chat page on a server that requires an API key', () => {
  let service: TestService;

  beforeAll(async () => {
    service = await startTestService({ configure: (c) => (c.server.apiKeys = ['sk-ui-e2e']) });
  });
  afterAll(() => service?.close());

  it('asks for the key once at the first 401, keeps it, and sends it as Bearer from then on', async () => {
    const { context, page, errors } = await openPage(service.url);
    const calls: string[] = [];
    page.on('response', (r) => {
      if (new URL(r.url()).pathname.startsWith('/v1/')) calls.push(`${r.status()} ${r.request().headers().authorization ?? 'no key'}`);
    });
    await send(page, 'with a key');
    await page.waitForSelector('#key-dialog[open]');
    await page.fill('#key-input', 'sk-ui-e2e');
    await page.click('#key-ok');
    expect((await lastAnswer(page)).text).toBe('with a key');
    expect(await page.evaluate(() => localStorage.getItem('qwen-ui.api-key'))).toBe('sk-ui-e2e');

    await page.reload();
    await send(page, 'again');
    expect((await lastAnswer(page)).text).toBe('again');
    expect(await page.isHidden('#key-dialog')).toBe(true);
    // One 401 (the first call, without a key), then every call carries the key.
    expect(calls[0]).toBe('401 no key');
    expect(calls.slice(1)).toEqual(Array(calls.length - 1).fill('200 Bearer sk-ui-e2e'));
    expect(calls.length).toBeGreaterThanOrEqual(3);
    expect(errors.filter((e) => !e.includes('401'))).toEqual([]);
    await context.close();
  });
});

describe('chat page: a phone screen, a runner held by another client, progress comments in the stream', () => {
  let service: TestService;

  beforeAll(async () => {
    service = await startTestService({ emulatorEnv: { QWEN_EMU_TOKEN_MS: '20' } });
  });
  afterAll(() => service?.close());

  it('fits the width, hides the conversation list behind a button, and chats', async () => {
    const { context, page, errors } = await openPage(service.url, { width: 390, height: 844 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(await page.$eval('#sidebar', (el) => el.getBoundingClientRect().right)).toBeLessThanOrEqual(0);
    await page.click('#toggle-sidebar');
    await page.waitForFunction(() => document.querySelector('#sidebar')!.getBoundingClientRect().left >= 0);
    await page.click('#new-chat');
    await send(page, 'from a phone');
    expect((await lastAnswer(page)).text).toBe('from a phone');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('shows the model busy and the request waiting in the queue, then streams the answer when its turn comes', async () => {
    const { context, page, errors } = await openPage(service.url);
    await page.waitForSelector('#model-state[data-state="ready"]');
    // Another client asks for a ~20 s answer and holds the runner until it leaves.
    writeFileSync(service.faultFile, JSON.stringify({ repeat: 200 }));
    const other = new AbortController();
    const otherDone = fetch(`${service.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'qwen2.5', stream: true, messages: [{ role: 'user', content: 'someone else is using the card' }] }),
      signal: other.signal,
    })
      .then((response) => response.text())
      .catch(() => undefined);
    await service.waitForModel((s) => s.state === 'busy', 'the other request to run');

    await send(page, 'my turn');
    // The stream opens at once and its progress comments say where it stands (docs/long-waits.md).
    await page.waitForFunction(() => document.querySelector('#waiting-text')?.textContent?.startsWith('queued: position 1') === true);
    expect(await page.isVisible('#waiting .spinner')).toBe(true);
    // The model state comes from /health, polled: wait for the poll that sees the queue.
    await page.waitForFunction(() => document.querySelector('#model-state-text')?.textContent === 'busy · 1 waiting');
    expect(await page.getAttribute('#model-state', 'data-state')).toBe('busy');

    other.abort();
    await otherDone;
    expect((await lastAnswer(page)).text).toBe('my turn');
    expect(await page.isHidden('#waiting')).toBe(true);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('shows the stream\'s progress comments (queue position, prompt tokens fed) while it waits, and they do not disturb the answer', async () => {
    const { context, page, errors } = await openPage(service.url);
    // The service does not send these comments yet: the stream is played back to the page as it will look.
    const chunk = (delta: object, usage: object | null = null) =>
      `data: ${JSON.stringify({ id: 'chatcmpl-x', object: 'chat.completion.chunk', created: 0, model: 'qwen2.5', choices: usage ? [] : [{ index: 0, delta, finish_reason: null }], usage })}\n\n`;
    await page.route('**/v1/chat/completions', (route) =>
      route.fulfill({
        status: 200,
        headers: { 'Content-Type': 'text/event-stream', 'X-Qwen-Sampling': 'greedy' },
        body: [
          ': queue position 1 of 2, about 9 s\n\n',
          ': prefill 120/480 prompt tokens\n\n',
          chunk({ role: 'assistant', content: '' }),
          chunk({ content: 'Played ' }),
          ': keep-alive\n\n',
          chunk({ content: 'back' }),
          chunk({}, { prompt_tokens: 480, completion_tokens: 2, total_tokens: 482 }),
          'data: [DONE]\n\n',
        ].join(''),
      }),
    );
    await page.evaluate(() => {
      const texts: string[] = (window.__waitingTexts = []);
      const target = document.querySelector('#waiting-text')!;
      new window.MutationObserver(() => texts.push(target.textContent ?? '')).observe(target, { childList: true, characterData: true, subtree: true });
    });
    await send(page, 'anything');
    expect((await lastAnswer(page)).text).toBe('Played back');
    const shown = await page.evaluate(() => window.__waitingTexts);
    expect(shown).toEqual(expect.arrayContaining(['queue position 1 of 2, about 9 s', 'prefill 120/480 prompt tokens']));
    expect(shown).not.toContain('keep-alive'); // after the first token, comments are not progress any more
    expect(await page.textContent('#context-text')).toBe('482 / 1024');
    expect(await page.textContent('#sampling')).toBe('sampling: greedy');
    expect(errors).toEqual([]);
    await context.close();
  });
});
