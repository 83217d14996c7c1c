/* global document */
/**
 * A small Markdown renderer for model answers that never parses model text as HTML: every node is
 * created with createElement, and text only ever enters the page through text nodes. Links are
 * made only for http(s) URLs. Covers what a chat model writes: fenced code, headings, lists, quotes,
 * tables, rules, paragraphs, `code`, **bold**, *emphasis*, ~~strike~~, [links](https://…).
 * An unfinished fence (an answer still streaming) renders as code up to the end.
 */

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([\w+#.-]*)/;
const HEADING = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const RULE = /^ {0,3}([-*_])(?:\s*\1){2,}\s*$/;
const QUOTE = /^ {0,3}>\s?(.*)$/;
const ITEM = /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/;
const TABLE_SEPARATOR = /^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$/;

/**
 * @param {string} text Markdown written by the model
 * @param {(code: string) => HTMLElement | null} [codeActions] extra controls for a code block (a copy button)
 * @returns {DocumentFragment}
 */
export function renderMarkdown(text, codeActions) {
  const fragment = document.createDocumentFragment();
  renderBlocks(text.replace(/\r\n?/g, '\n').split('\n'), fragment, codeActions);
  return fragment;
}

function renderBlocks(lines, parent, codeActions) {
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (line.trim() === '') {
      i++;
      continue;
    }
    const fence = FENCE.exec(line);
    if (fence) {
      const body = [];
      i++;
      while (i < lines.length && !new RegExp(`^ {0,3}${fence[1][0]}{${fence[1].length},}\\s*$`).test(lines[i])) body.push(lines[i++]);
      i++; // the closing fence (or past the end)
      parent.appendChild(codeBlock(body.join('\n'), fence[2], codeActions));
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      const h = document.createElement(`h${Math.min(heading[1].length + 2, 6)}`);
      renderInline(heading[2], h);
      parent.appendChild(h);
      i++;
      continue;
    }
    if (RULE.test(line)) {
      parent.appendChild(document.createElement('hr'));
      i++;
      continue;
    }
    if (QUOTE.test(line)) {
      const quoted = [];
      while (i < lines.length && QUOTE.test(lines[i])) quoted.push(QUOTE.exec(lines[i++])[1]);
      const blockquote = document.createElement('blockquote');
      renderBlocks(quoted, blockquote, codeActions);
      parent.appendChild(blockquote);
      continue;
    }
    if (ITEM.test(line)) {
      i = renderList(lines, i, parent, codeActions);
      continue;
    }
    if (line.includes('|') && i + 1 < lines.length && TABLE_SEPARATOR.test(lines[i + 1])) {
      i = renderTable(lines, i, parent);
      continue;
    }
    const paragraph = [];
    while (i < lines.length && lines[i].trim() !== '' && !startsBlock(lines, i)) paragraph.push(lines[i++]);
    const p = document.createElement('p');
    renderInline(paragraph.join('\n'), p);
    parent.appendChild(p);
  }
}

function startsBlock(lines, i) {
  const line = lines[i];
  return FENCE.test(line) || HEADING.test(line) || RULE.test(line) || QUOTE.test(line) || ITEM.test(line) ||
    (line.includes('|') && i + 1 < lines.length && TABLE_SEPARATOR.test(lines[i + 1]));
}

function codeBlock(code, language, codeActions) {
  const wrapper = document.createElement('div');
  wrapper.className = 'code-block';
  const head = document.createElement('div');
  head.className = 'code-head';
  const label = document.createElement('span');
  label.textContent = language || 'code';
  head.appendChild(label);
  const actions = codeActions ? codeActions(code) : null;
  if (actions) head.appendChild(actions);
  const pre = document.createElement('pre');
  const element = document.createElement('code');
  element.textContent = code;
  pre.appendChild(element);
  wrapper.append(head, pre);
  return wrapper;
}

function renderList(lines, start, parent, codeActions) {
  const first = ITEM.exec(lines[start]);
  const ordered = /\d/.test(first[2]);
  const list = document.createElement(ordered ? 'ol' : 'ul');
  if (ordered && parseInt(first[2], 10) !== 1) list.start = parseInt(first[2], 10);
  const indent = first[1].length;
  let i = start;
  while (i < lines.length) {
    const item = ITEM.exec(lines[i]);
    if (!item || item[1].length !== indent || /\d/.test(item[2]) !== ordered) break;
    const body = [item[3]];
    i++;
    // Continuation and nested lines: indented deeper than the marker.
    while (i < lines.length && lines[i].trim() !== '' && !(ITEM.test(lines[i]) && ITEM.exec(lines[i])[1].length <= indent) && /^\s/.test(lines[i])) {
      body.push(lines[i++].replace(new RegExp(`^\\s{0,${indent + 4}}`), ''));
    }
    const li = document.createElement('li');
    if (body.length === 1) renderInline(body[0], li);
    else renderBlocks(body, li, codeActions);
    list.appendChild(li);
    if (i < lines.length && lines[i].trim() === '' && i + 1 < lines.length && ITEM.test(lines[i + 1]) && ITEM.exec(lines[i + 1])[1].length === indent) i++;
  }
  parent.appendChild(list);
  return i;
}

function renderTable(lines, start, parent) {
  const cells = (line) => line.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map((c) => c.trim());
  const table = document.createElement('table');
  const head = table.createTHead().insertRow();
  for (const cell of cells(lines[start])) {
    const th = document.createElement('th');
    renderInline(cell, th);
    head.appendChild(th);
  }
  const body = table.createTBody();
  let i = start + 2;
  while (i < lines.length && lines[i].includes('|') && lines[i].trim() !== '') {
    const row = body.insertRow();
    for (const cell of cells(lines[i++])) renderInline(cell, row.insertCell());
  }
  const scroller = document.createElement('div');
  scroller.className = 'table-scroll';
  scroller.appendChild(table);
  parent.appendChild(scroller);
  return i;
}

const INLINE = new RegExp(
  [
    /(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/.source, // 1,2: code
    /\*\*(?=\S)([\s\S]*?\S)\*\*/.source, // 3: bold
    /__(?=\S)([\s\S]*?\S)__/.source, // 4: bold
    /\*(?=[^\s*])([^*]*?[^\s*])\*/.source, // 5: emphasis
    /~~(?=\S)([\s\S]*?\S)~~/.source, // 6: strike
    /\[([^\]\n]+)\]\(\s*(https?:\/\/[^\s)]+)\s*\)/.source, // 7,8: link
    /(https?:\/\/[^\s<>()]*[^\s<>().,;:!?'"*])/.source, // 9: bare URL
  ].join('|'),
  'g',
);

/** Appends `text` to `parent` as text nodes and inline elements. */
function renderInline(text, parent) {
  let last = 0;
  INLINE.lastIndex = 0;
  for (let match = INLINE.exec(text); match; match = INLINE.exec(text)) {
    if (match.index > last) parent.appendChild(document.createTextNode(text.slice(last, match.index)));
    last = INLINE.lastIndex;
    const next = INLINE.lastIndex;
    if (match[2] !== undefined) parent.appendChild(element('code', match[2]));
    else if (match[3] !== undefined || match[4] !== undefined) parent.appendChild(nested('strong', match[3] ?? match[4]));
    else if (match[5] !== undefined) parent.appendChild(nested('em', match[5]));
    else if (match[6] !== undefined) parent.appendChild(nested('del', match[6]));
    else if (match[7] !== undefined) parent.appendChild(link(match[8], match[7]));
    else parent.appendChild(link(match[9], match[9]));
    INLINE.lastIndex = next; // nested() ran the same regex
  }
  if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
}

function element(tag, text) {
  const node = document.createElement(tag);
  node.textContent = text;
  return node;
}

function nested(tag, text) {
  const node = document.createElement(tag);
  renderInline(text, node);
  return node;
}

function link(url, label) {
  const a = document.createElement('a');
  a.href = url; // http(s) only: the patterns above accept nothing else
  a.target = '_blank';
  a.rel = 'noopener noreferrer';
  a.textContent = label;
  return a;
}
