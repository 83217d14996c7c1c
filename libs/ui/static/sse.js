/* global TextDecoder */
/**
 * Server-sent events from a fetch() body, including comment lines (`: queue position 2 …`), which
 * EventSource hides. Yields `{ kind: 'data', data }` per event and `{ kind: 'comment', text }` per
 * comment line, as they arrive.
 * @param {ReadableStream<Uint8Array>} body
 */
export async function* readServerSentEvents(body) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let data = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let newline;
      while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
        if (line === '') {
          if (data.length > 0) yield { kind: 'data', data: data.join('\n') };
          data = [];
        } else if (line.startsWith(':')) {
          yield { kind: 'comment', text: line.slice(1).trim() };
        } else if (line.startsWith('data:')) {
          data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
        }
      }
      if (done) break;
    }
    if (data.length > 0) yield { kind: 'data', data: data.join('\n') };
  } finally {
    reader.releaseLock();
  }
}
