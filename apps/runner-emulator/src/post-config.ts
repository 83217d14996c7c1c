/**
 * `post_config.json` as the runner prints it: nlohmann::json `dump(4)` — keys sorted, 4-space
 * indent, `"key": value`, floats keep a decimal point (`1.0`), non-ASCII written as is.
 * A small parser keeps the integer/float distinction that JSON.parse would lose.
 */
type JsonValue =
  | { kind: 'null' | 'true' | 'false' }
  | { kind: 'number'; text: string; float: boolean }
  | { kind: 'string'; value: string }
  | { kind: 'array'; items: JsonValue[] }
  | { kind: 'object'; entries: Map<string, JsonValue> };

export function dumpLikeNlohmann(source: string): string {
  const parser = new JsonParser(source);
  const value = parser.value();
  parser.end();
  return render(value, 0);
}

function render(value: JsonValue, depth: number): string {
  const pad = ' '.repeat(4 * (depth + 1));
  const closePad = ' '.repeat(4 * depth);
  switch (value.kind) {
    case 'null':
    case 'true':
    case 'false':
      return value.kind;
    case 'number':
      return value.float ? formatFloat(Number(value.text)) : String(BigInt(value.text));
    case 'string':
      return JSON.stringify(value.value);
    case 'array':
      if (value.items.length === 0) return '[]';
      return `[\n${value.items.map((v) => pad + render(v, depth + 1)).join(',\n')}\n${closePad}]`;
    case 'object': {
      if (value.entries.size === 0) return '{}';
      const keys = [...value.entries.keys()].sort(compareUtf8);
      const body = keys.map((k) => `${pad}${JSON.stringify(k)}: ${render(value.entries.get(k) as JsonValue, depth + 1)}`);
      return `{\n${body.join(',\n')}\n${closePad}}`;
    }
  }
}

function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Shortest round-trip form, with `.0` on integral values and nlohmann's exponent style. */
function formatFloat(n: number): string {
  if (!Number.isFinite(n)) return 'null';
  const text = String(n);
  if (text.includes('e')) return text.replace(/e([+-])(\d)$/, 'e$10$2');
  return text.includes('.') ? text : `${text}.0`;
}

class JsonParser {
  private pos = 0;

  constructor(private readonly text: string) {}

  value(): JsonValue {
    this.skip();
    const c = this.text[this.pos];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return { kind: 'string', value: this.string() };
    for (const word of ['null', 'true', 'false'] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return { kind: word };
      }
    }
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.text.slice(this.pos));
    if (!match) throw new SyntaxError(`invalid JSON at ${this.pos}`);
    this.pos += match[0].length;
    return { kind: 'number', text: match[0], float: match[2] !== undefined || match[3] !== undefined };
  }

  end(): void {
    this.skip();
    if (this.pos !== this.text.length) throw new SyntaxError(`unexpected text at ${this.pos}`);
  }

  private object(): JsonValue {
    const entries = new Map<string, JsonValue>();
    this.pos++;
    this.skip();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return { kind: 'object', entries };
    }
    for (;;) {
      this.skip();
      const key = this.string();
      this.skip();
      this.expect(':');
      entries.set(key, this.value());
      this.skip();
      if (this.text[this.pos] === ',') {
        this.pos++;
        continue;
      }
      this.expect('}');
      return { kind: 'object', entries };
    }
  }

  private array(): JsonValue {
    const items: JsonValue[] = [];
    this.pos++;
    this.skip();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return { kind: 'array', items };
    }
    for (;;) {
      items.push(this.value());
      this.skip();
      if (this.text[this.pos] === ',') {
        this.pos++;
        continue;
      }
      this.expect(']');
      return { kind: 'array', items };
    }
  }

  private string(): string {
    const match = /^"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/.exec(this.text.slice(this.pos));
    if (!match) throw new SyntaxError(`invalid string at ${this.pos}`);
    this.pos += match[0].length;
    return JSON.parse(match[0]) as string;
  }

  private expect(c: string): void {
    if (this.text[this.pos] !== c) throw new SyntaxError(`expected "${c}" at ${this.pos}`);
    this.pos++;
  }

  private skip(): void {
    while (this.pos < this.text.length && ' \t\r\n'.includes(this.text[this.pos])) this.pos++;
  }
}
