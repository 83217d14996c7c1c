/* global document, window, localStorage, navigator, fetch, AbortController, requestAnimationFrame, setTimeout, clearTimeout, crypto */
/**
 * The built-in chat page. Plain modules, no framework: it talks to this origin only
 * (/v1/chat/completions, /v1/models, /health) and keeps conversations and the API key in
 * localStorage. Model text reaches the page only as text nodes (markdown.js).
 */
import { renderMarkdown } from './markdown.js';
import { readServerSentEvents } from './sse.js';

const STORAGE = { conversations: 'qwen-ui.conversations', current: 'qwen-ui.current', apiKey: 'qwen-ui.api-key' };
const $ = (id) => document.getElementById(id);
const ui = {
  sidebar: $('sidebar'), toggleSidebar: $('toggle-sidebar'), newChat: $('new-chat'), conversations: $('conversations'),
  state: $('model-state'), stateText: $('model-state-text'), loadProgress: $('load-progress'),
  contextMeter: $('context-meter'), contextText: $('context-text'), speed: $('speed'), sampling: $('sampling'),
  truncated: $('truncated-warning'), storageWarning: $('storage-warning'), system: $('system-prompt'), systemBox: $('system-box'), messages: $('messages'),
  waiting: $('waiting'), waitingText: $('waiting-text'), prefill: $('prefill-progress'),
  composer: $('composer'), input: $('input'), send: $('send'), stop: $('stop'),
  keyDialog: $('key-dialog'), keyForm: $('key-form'), keyInput: $('key-input'),
};

// ---------- state kept in the browser ----------

/** @typedef {{ role: 'user' | 'assistant', content: string, meta?: AnswerMeta }} Message */
/** @typedef {{ stopped?: boolean, error?: string, usage?: { prompt_tokens: number, completion_tokens: number, total_tokens: number }, tokensPerSecond?: number | null, droppedMessages?: number, sampling?: string | null }} AnswerMeta */
/** @typedef {{ id: string, title: string, system: string, messages: Message[], updatedAt: number }} Conversation */

function readJson(key, fallback) {
  try {
    const value = JSON.parse(localStorage.getItem(key) ?? 'null');
    return value ?? fallback;
  } catch {
    return fallback;
  }
}

/** @type {Conversation[]} */
let conversations = readJson(STORAGE.conversations, []).filter((c) => c && Array.isArray(c.messages));
let currentId = localStorage.getItem(STORAGE.current);

function save() {
  try {
    localStorage.setItem(STORAGE.conversations, JSON.stringify(conversations));
    if (currentId) localStorage.setItem(STORAGE.current, currentId);
    ui.storageWarning.hidden = true;
  } catch (error) {
    // Storage full (or disabled): the page keeps working, but says the chats will not survive a reload.
    ui.storageWarning.hidden = false;
    ui.storageWarning.textContent = `Conversations cannot be saved in this browser (${error?.name ?? error}): delete old chats to make room.`;
  }
}

function newConversation() {
  const conversation = { id: crypto.randomUUID?.() ?? String(Date.now() + Math.random()), title: 'New chat', system: '', messages: [], updatedAt: Date.now() };
  conversations.unshift(conversation);
  currentId = conversation.id;
  save();
  return conversation;
}

function current() {
  return conversations.find((c) => c.id === currentId) ?? conversations[0] ?? newConversation();
}

// ---------- the server: model state, sampling, window ----------

const server = { state: 'unknown', maxTokenLen: 1024, sampling: null, queue: null, modelId: null };
let healthTimer = null;

async function pollHealth() {
  clearTimeout(healthTimer);
  try {
    const response = await fetch('/health', { cache: 'no-store' });
    showHealth(await response.json());
  } catch {
    showState('offline', 'service unreachable', null);
  }
  const settled = server.state === 'ready' || server.state === 'failed';
  healthTimer = setTimeout(pollHealth, settled && !generation ? 5000 : 1000);
}

function showHealth(report) {
  const model = report?.details?.model ?? {};
  server.queue = report?.details?.queue ?? null;
  if (model.maxTokenLen) server.maxTokenLen = model.maxTokenLen;
  if (model.sampling) server.sampling = formatSampling(model.sampling);
  const state = model.state ?? 'unknown';
  const labels = {
    'ready': 'ready',
    'busy': 'busy',
    'loading': 'loading',
    'waiting-for-tokenizer': 'starting',
    'restarting': 'restarting',
    'failed': 'failed',
    'stopped': 'stopped',
  };
  let text = labels[state] ?? state;
  if (state === 'loading' && model.progress) text += ` ${model.progress.step}/${model.progress.total}`;
  if (state === 'busy' && server.queue?.length) text += ` · ${server.queue.length} waiting`;
  if (state === 'failed' && model.reason) text += `: ${model.reason}`;
  showState(state, text, state === 'loading' && model.progress ? model.progress.step / model.progress.total : null, model.reason);
  ui.contextMeter.max = server.maxTokenLen;
  showContext();
  if (generation && !generation.firstTokenAt && !generation.commented) showWaiting(waitingText());
}

function showState(state, text, progress, reason) {
  server.state = state;
  ui.state.dataset.state = state;
  ui.stateText.textContent = text;
  ui.state.title = reason || 'Model state (from /health)';
  ui.loadProgress.hidden = progress === null;
  if (progress !== null) ui.loadProgress.value = progress;
}

/** The runner's sampling from /health, in the words of the X-Qwen-Sampling header. */
function formatSampling(s) {
  const parts = [];
  if (s.enable_temperature) parts.push(`temperature=${s.temperature}`);
  if (s.enable_top_k_sampling) parts.push(`top_k=${s.top_k}`);
  if (s.enable_top_p_sampling) parts.push(`top_p=${s.top_p}`);
  if (s.enable_repetition_penalty) parts.push(`repetition_penalty=${s.repetition_penalty}`);
  return parts.length ? parts.join('; ') : 'greedy';
}

// ---------- the API key ----------

let keyPrompt = null;

function apiKey() {
  return localStorage.getItem(STORAGE.apiKey);
}

/** Asks for the key (one dialog at a time); resolves with it, or null when the user cancels. */
function askForKey(refused) {
  keyPrompt ??= new Promise((resolve) => {
    ui.keyDialog.querySelector('p').textContent = refused
      ? 'The server refused the saved API key. Enter another one (kept in this browser only).'
      : 'This server requires an API key. It is kept in this browser only.';
    ui.keyInput.value = '';
    const done = (key) => {
      ui.keyForm.onsubmit = null;
      ui.keyDialog.onclose = null;
      ui.keyDialog.close();
      keyPrompt = null;
      resolve(key);
    };
    ui.keyForm.onsubmit = (event) => {
      event.preventDefault();
      const key = ui.keyInput.value.trim();
      if (event.submitter?.value === 'ok' && key) localStorage.setItem(STORAGE.apiKey, key);
      done(event.submitter?.value === 'ok' && key ? key : null);
    };
    ui.keyDialog.onclose = () => done(null);
    ui.keyDialog.showModal();
  });
  return keyPrompt;
}

/** fetch() with the saved key as Bearer; on 401 asks for a key once and tries again. */
async function apiFetch(path, init) {
  const send = () => {
    const headers = { ...init.headers };
    const key = apiKey();
    if (key) headers.Authorization = `Bearer ${key}`;
    return fetch(path, { ...init, headers });
  };
  const response = await send();
  if (response.status !== 401) return response;
  if (!(await askForKey(Boolean(apiKey())))) return response;
  return send();
}

async function errorMessage(response) {
  try {
    const body = await response.json();
    return body?.error?.message ?? `HTTP ${response.status}`;
  } catch {
    return `HTTP ${response.status} ${response.statusText}`;
  }
}

async function modelId() {
  if (server.modelId) return server.modelId;
  const response = await apiFetch('/v1/models', { headers: { Accept: 'application/json' } });
  if (!response.ok) throw new Error(await errorMessage(response));
  server.modelId = (await response.json()).data?.[0]?.id ?? 'qwen2.5';
  return server.modelId;
}

// ---------- generation ----------

/** The answer being streamed: its abort controller, message and timings. */
let generation = null;

async function generate(conversation) {
  const answer = /** @type {Message} */ ({ role: 'assistant', content: '', meta: {} });
  const history = conversation.messages.map(({ role, content }) => ({ role, content }));
  conversation.messages.push(answer);
  conversation.updatedAt = Date.now();
  generation = { controller: new AbortController(), conversation, answer, firstTokenAt: 0, lastTokenAt: 0, commented: false };
  renderConversation();
  setGenerating(true);
  showWaiting(waitingText());
  pollHealth();
  try {
    const messages = conversation.system.trim() ? [{ role: 'system', content: conversation.system }, ...history] : history;
    const response = await apiFetch('/v1/chat/completions', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' },
      body: JSON.stringify({ model: await modelId(), messages, stream: true, stream_options: { include_usage: true } }),
      signal: generation.controller.signal,
    });
    if (!response.ok) throw new Error(await errorMessage(response));
    answer.meta.sampling = response.headers.get('X-Qwen-Sampling');
    const dropped = Number(response.headers.get('X-Qwen-Truncated-Messages') ?? 0);
    if (dropped > 0) answer.meta.droppedMessages = dropped;
    showContext();
    for await (const event of readServerSentEvents(response.body)) {
      if (event.kind === 'comment') {
        if (!generation.firstTokenAt && event.text) showProgressComment(event.text);
        continue;
      }
      if (event.data === '[DONE]') break;
      const chunk = JSON.parse(event.data);
      if (chunk.error) throw new Error(chunk.error.message ?? 'the generation failed');
      const delta = chunk.choices?.[0]?.delta?.content;
      if (delta) {
        const now = window.performance.now();
        if (!generation.firstTokenAt) {
          generation.firstTokenAt = now;
          hideWaiting();
        }
        generation.lastTokenAt = now;
        answer.content += delta;
        scheduleAnswerRender();
      }
      if (chunk.usage) answer.meta.usage = chunk.usage;
    }
    const produced = answer.meta.usage?.completion_tokens ?? 0;
    const seconds = (generation.lastTokenAt - generation.firstTokenAt) / 1000;
    answer.meta.tokensPerSecond = produced > 1 && seconds > 0 ? (produced - 1) / seconds : null;
  } catch (error) {
    if (error?.name === 'AbortError') answer.meta.stopped = true;
    else answer.meta.error = error?.message ?? String(error);
  } finally {
    generation = null;
    hideWaiting();
    setGenerating(false);
    save();
    renderConversation();
    pollHealth();
  }
}

function waitingText() {
  if (server.state === 'loading' || server.state === 'waiting-for-tokenizer' || server.state === 'restarting') return 'waiting for the model to load…';
  if (server.state === 'failed') return 'the model failed to load; waiting…';
  const queued = server.queue?.length ?? 0;
  if (server.state === 'busy' && queued > 0) return `waiting in the queue (${queued} waiting)…`;
  if (server.state === 'busy') return 'waiting for the answer before this one…';
  return 'reading the prompt…';
}

/** Keep-alive comments of the stream (`: queue position 2 …`, prefill progress): shown as they are. */
function showProgressComment(text) {
  generation.commented = true;
  const fed = /(\d+)\s*(?:\/|of)\s*(\d+)/i.exec(text);
  showWaiting(text, fed && /prefill|prompt|token/i.test(text) ? Number(fed[1]) / Math.max(1, Number(fed[2])) : null);
}

function showWaiting(text, progress = null) {
  ui.waiting.hidden = false;
  ui.waitingText.textContent = text;
  ui.prefill.hidden = progress === null;
  if (progress !== null) ui.prefill.value = Math.min(1, progress);
}

function hideWaiting() {
  ui.waiting.hidden = true;
}

function setGenerating(on) {
  ui.send.hidden = on;
  ui.stop.hidden = !on;
  ui.composer.classList.toggle('generating', on);
}

let renderQueued = false;
function scheduleAnswerRender() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    const element = ui.messages.querySelector('.message.streaming .content');
    if (!element || !generation) return;
    element.replaceChildren(renderMarkdown(generation.answer.content, copyButton));
    ui.messages.scrollTop = ui.messages.scrollHeight;
  });
}

// ---------- rendering ----------

function lastAnswerMeta() {
  const answers = current().messages.filter((m) => m.role === 'assistant' && m.meta);
  return answers.at(-1)?.meta ?? null;
}

function showContext() {
  const meta = lastAnswerMeta();
  const used = meta?.usage?.total_tokens ?? null;
  ui.contextMeter.value = used ?? 0;
  ui.contextText.textContent = `${used ?? '–'} / ${server.maxTokenLen}`;
  ui.speed.textContent = meta?.tokensPerSecond ? `${meta.tokensPerSecond.toFixed(1)} tok/s` : '– tok/s';
  ui.sampling.textContent = `sampling: ${meta?.sampling ?? server.sampling ?? '–'}`;
  const dropped = meta?.droppedMessages ?? 0;
  ui.truncated.hidden = dropped === 0;
  ui.truncated.textContent = dropped
    ? `The conversation no longer fits the ${server.maxTokenLen}-token window: the ${dropped} oldest message${dropped === 1 ? ' was' : 's were'} not sent to the model. Start a new chat to keep answers on topic.`
    : '';
}

function button(label, title, onClick) {
  const element = document.createElement('button');
  element.type = 'button';
  element.textContent = label;
  element.title = title;
  element.addEventListener('click', onClick);
  return element;
}

function copyButton(text) {
  const element = button('copy', 'Copy', async () => {
    element.textContent = (await copyText(text)) ? 'copied' : 'copy failed';
    setTimeout(() => (element.textContent = 'copy'), 1500);
  });
  element.className = 'copy';
  return element;
}

/** The Clipboard API needs a secure context; a Pi on the LAN is plain http, so fall back. */
async function copyText(text) {
  try {
    if (window.isSecureContext && navigator.clipboard) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // fall back below
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.className = 'offscreen';
  document.body.appendChild(area);
  area.select();
  const ok = document.execCommand('copy');
  area.remove();
  return ok;
}

function renderConversation() {
  const conversation = current();
  ui.system.value = conversation.system;
  if (conversation.system) ui.systemBox.open = true;
  const nodes = conversation.messages.map((message, index) => {
    const article = document.createElement('article');
    article.className = `message ${message.role}`;
    const isStreaming = generation && message === generation.answer;
    if (isStreaming) article.classList.add('streaming');
    const content = document.createElement('div');
    content.className = 'content';
    if (message.role === 'assistant') content.appendChild(renderMarkdown(message.content, copyButton));
    else content.textContent = message.content;
    article.appendChild(content);
    if (message.role === 'assistant' && !isStreaming) {
      const meta = document.createElement('div');
      meta.className = 'meta';
      const facts = [];
      if (message.meta?.stopped) facts.push('stopped');
      if (message.meta?.usage) facts.push(`${message.meta.usage.completion_tokens} tokens`);
      if (message.meta?.tokensPerSecond) facts.push(`${message.meta.tokensPerSecond.toFixed(1)} tok/s`);
      const factsText = document.createElement('span');
      factsText.textContent = facts.join(' · ');
      meta.appendChild(factsText);
      if (message.meta?.error) {
        const error = document.createElement('p');
        error.className = 'error';
        error.textContent = message.meta.error;
        content.appendChild(error);
      }
      meta.appendChild(copyButton(message.content));
      if (index === conversation.messages.length - 1 && !generation) {
        const regenerate = button('regenerate', 'Ask again', () => {
          conversation.messages.pop();
          generate(conversation);
        });
        regenerate.className = 'regenerate';
        meta.appendChild(regenerate);
      }
      article.appendChild(meta);
    }
    return article;
  });
  ui.messages.replaceChildren(...nodes);
  ui.messages.scrollTop = ui.messages.scrollHeight;
  renderConversationList();
  showContext();
}

function renderConversationList() {
  const items = [...conversations]
    .sort((a, b) => b.updatedAt - a.updatedAt)
    .map((conversation) => {
      const li = document.createElement('li');
      if (conversation.id === current().id) li.className = 'current';
      const open = button(conversation.title, conversation.title, () => {
        if (generation) return;
        currentId = conversation.id;
        save();
        renderConversation();
        closeSidebar();
      });
      open.className = 'open';
      const remove = button('×', 'Delete this chat', () => {
        if (generation?.conversation === conversation) return;
        conversations = conversations.filter((c) => c !== conversation);
        if (currentId === conversation.id) currentId = conversations[0]?.id ?? newConversation().id;
        save();
        renderConversation();
      });
      remove.className = 'delete';
      li.append(open, remove);
      return li;
    });
  ui.conversations.replaceChildren(...items);
}

function closeSidebar() {
  document.body.classList.remove('sidebar-open');
  ui.toggleSidebar.setAttribute('aria-expanded', 'false');
}

// ---------- events ----------

ui.composer.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = ui.input.value;
  if (!text.trim() || generation) return;
  const conversation = current();
  if (conversation.messages.length === 0) conversation.title = text.trim().replace(/\s+/g, ' ').slice(0, 48);
  conversation.messages.push({ role: 'user', content: text });
  ui.input.value = '';
  generate(conversation);
});

// On a touch screen Enter is a new line (there is no Shift): the Send button sends.
const enterSends = !window.matchMedia('(pointer: coarse)').matches;
ui.input.addEventListener('keydown', (event) => {
  if (enterSends && event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    ui.composer.requestSubmit();
  }
});

ui.stop.addEventListener('click', () => generation?.controller.abort());

ui.system.addEventListener('input', () => {
  current().system = ui.system.value;
  save();
});

ui.newChat.addEventListener('click', () => {
  if (generation) return;
  const empty = conversations.find((c) => c.messages.length === 0);
  if (empty) currentId = empty.id;
  else newConversation();
  save();
  renderConversation();
  closeSidebar();
  ui.input.focus();
});

ui.toggleSidebar.addEventListener('click', () => {
  const open = document.body.classList.toggle('sidebar-open');
  ui.toggleSidebar.setAttribute('aria-expanded', String(open));
});

currentId = current().id;
renderConversation();
pollHealth();
