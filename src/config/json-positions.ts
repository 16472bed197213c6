// Line and column of every value in a JSON text, so that config errors can name the line.

export interface Position {
  readonly line: number;
  readonly column: number;
}

/**
 * Maps each JSON path (`tenants[2].domains[0]`, as formatPath writes it) to where its value starts.
 * The text must already be known to be valid JSON (JSON.parse succeeded).
 */
export function jsonPositions(text: string): Map<string, Position> {
  const positions = new Map<string, Position>();
  let index = 0;
  let line = 1;
  let lineStart = 0;

  const skipSpace = () => {
    for (;;) {
      const ch = text[index];
      if (ch === '\n') {
        line++;
        lineStart = index + 1;
      } else if (ch !== ' ' && ch !== '\t' && ch !== '\r' && ch !== '\uFEFF') {
        return;
      }
      index++;
    }
  };
  const readString = (): string => {
    const start = index;
    index++; // opening quote
    while (text[index] !== '"') index += text[index] === '\\' ? 2 : 1;
    index++;
    return JSON.parse(text.slice(start, index)) as string;
  };
  const value = (path: (string | number)[]) => {
    skipSpace();
    positions.set(formatPath(path), { line, column: index - lineStart + 1 });
    const ch = text[index];
    if (ch === '{') {
      index++;
      skipSpace();
      while (text[index] !== '}') {
        const key = readString();
        skipSpace();
        index++; // colon
        value([...path, key]);
        skipSpace();
        if (text[index] === ',') index++;
        skipSpace();
      }
      index++;
    } else if (ch === '[') {
      index++;
      skipSpace();
      let i = 0;
      while (text[index] !== ']') {
        value([...path, i++]);
        skipSpace();
        if (text[index] === ',') index++;
        skipSpace();
      }
      index++;
    } else if (ch === '"') {
      readString();
    } else {
      while (index < text.length && !/[\s,\]}]/.test(text[index] ?? '')) index++;
    }
  };
  value([]);
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
