// A small JSON reader that knows where things are: line and column of every value, and of the first syntax error.

export interface Position {
  readonly line: number;
  readonly column: number;
}

export class JsonSyntaxError extends Error {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

/**
 * Checks `text` against the JSON grammar and maps each JSON path (`tenants[2].domains[0]`, as
 * formatPath writes it) to where its value starts. Throws JsonSyntaxError at the first mistake:
 * V8's own messages carry no position on Node 20 for several mistakes.
 */
export function jsonPositions(text: string): Map<string, Position> {
  const positions = new Map<string, Position>();
  let index = 0;
  let line = 1;
  let lineStart = 0;

  const fail = (reason: string): never => {
    throw new JsonSyntaxError(index, reason);
  };
  const skipSpace = () => {
    for (;;) {
      const ch = text[index];
      if (ch === '\n') {
        line++;
        lineStart = index + 1;
      } else if (ch !== ' ' && ch !== '\t' && ch !== '\r') {
        return;
      }
      index++;
    }
  };
  const expect = (ch: string, what: string) => {
    if (text[index] !== ch) fail(`expected ${what}`);
    index++;
  };
  const readString = (): string => {
    const start = index;
    expect('"', 'a double-quoted string');
    for (;;) {
      const code = text.charCodeAt(index);
      if (Number.isNaN(code) || code === 10) fail('unterminated string');
      if (code < 0x20) fail('control character in a string; escape it');
      if (code === 0x22) break;
      index += code === 0x5c ? 2 : 1;
    }
    index++;
    try {
      return JSON.parse(text.slice(start, index)) as string;
    } catch {
      index = start;
      return fail('invalid escape in a string');
    }
  };
  // biome-ignore lint/complexity/noExcessiveCognitiveComplexity: the JSON value walker of a tokenizer, one case per token
  const value = (path: (string | number)[]) => {
    skipSpace();
    positions.set(formatPath(path), { line, column: index - lineStart + 1 });
    const ch = text[index];
    if (ch === '{') {
      index++;
      skipSpace();
      if (text[index] === '}') {
        index++;
        return;
      }
      for (;;) {
        skipSpace();
        if (text[index] !== '"') fail('expected a double-quoted key');
        const key = readString();
        skipSpace();
        expect(':', '":" after a key');
        value([...path, key]);
        skipSpace();
        if (text[index] === ',') {
          index++;
          continue;
        }
        expect('}', '"," or "}"');
        return;
      }
    }
    if (ch === '[') {
      index++;
      skipSpace();
      if (text[index] === ']') {
        index++;
        return;
      }
      for (let i = 0; ; i++) {
        value([...path, i]);
        skipSpace();
        if (text[index] === ',') {
          index++;
          continue;
        }
        expect(']', '"," or "]"');
        return;
      }
    }
    if (ch === '"') {
      readString();
      return;
    }
    const literal = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(
      text.slice(index, index + 400),
    );
    if (!literal) fail('expected a value');
    index += literal?.[0].length ?? 0;
  };
  value([]);
  skipSpace();
  if (index < text.length) fail('unexpected text after the end of the document');
  return positions;
}

/** `['tenants', 2, 'domains', 0]` -> `tenants[2].domains[0]`; the root is `(root)`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (typeof part === 'string' && /^[A-Za-z_$][\w$]*$/.test(part))
      out += out === '' ? part : `.${part}`;
    else out += `[${JSON.stringify(String(part))}]`;
  }
  return out === '' ? '(root)' : out;
}

/** Line and column of a zero-based character offset. */
export function offsetPosition(text: string, offset: number): Position {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
