// One pass over JSON text before it is parsed: nesting depth and duplicate keys, which JSON.parse hides.

/** Deeper nesting is refused: a config needs about 8 levels, and the checks walk values recursively. */
export const MAX_JSON_DEPTH = 64;

export interface DuplicateKey {
  /** The JSON path of the repeated key (`tenants[0].enroll`). */
  readonly path: readonly (string | number)[];
  /** Offsets of the first and the repeated key. */
  readonly first: number;
  readonly repeated: number;
}

export interface JsonScan {
  /** Offset of the first bracket past MAX_JSON_DEPTH; undefined when the depth is fine. */
  readonly tooDeep?: number;
  readonly duplicates: readonly DuplicateKey[];
  /**
   * Where each item of the root object's `tenants` array starts and ends (end exclusive), when
   * every item is an object or an array: each can then be parsed on its own.
   */
  readonly tenants?: readonly { readonly start: number; readonly end: number }[];
}

interface Frame {
  readonly object: boolean;
  /** Keys seen in this object, with their offsets (objects in a config have few keys). */
  readonly keys: string[];
  readonly offsets: number[];
  /** The current key (object) or index (array). */
  at: string | number;
  expectKey: boolean;
}

/**
 * Scans the text's brackets and keys. It never throws, whatever the text: a syntax error is left
 * to JSON.parse and the position scanner, which run after it. JSON.parse keeps the last of two
 * equal keys silently, so a placeholder `tenantId` or a second `domains` list could hide behind
 * the one that is read.
 */
// biome-ignore lint/complexity/noExcessiveCognitiveComplexity: a JSON tokenizer, one loop over the text's characters
export function scanJson(text: string, maxDepth = MAX_JSON_DEPTH): JsonScan {
  const stack: Frame[] = [];
  const duplicates: DuplicateKey[] = [];
  const length = text.length;
  // The root's `tenants` array: its items' places, and how many items it has (commas + 1).
  const tenants: { start: number; end: number }[] = [];
  let tenantsFrame: Frame | undefined;
  let tenantItems = -1;
  let tenantStart = -1;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x22 /* " */) {
      const start = i;
      for (i++; i < length; i++) {
        const c = text.charCodeAt(i);
        if (c === 0x5c /* \ */) i++;
        else if (c === 0x22) break;
      }
      const top = stack[stack.length - 1];
      if (top?.object && top.expectKey) {
        top.expectKey = false;
        const key = readKey(text.slice(start, i + 1));
        const seen = top.keys.indexOf(key);
        if (seen !== -1) {
          duplicates.push({
            path: [...stack.map((f) => f.at).slice(0, -1), key],
            first: top.offsets[seen] as number,
            repeated: start,
          });
        } else {
          top.keys.push(key);
          top.offsets.push(start);
        }
        top.at = key;
      }
    } else if (code === 0x7b /* { */ || code === 0x5b /* [ */) {
      if (stack.length >= maxDepth) return { tooDeep: i, duplicates };
      const object = code === 0x7b;
      const frame: Frame = {
        object,
        keys: [],
        offsets: [],
        at: object ? '' : 0,
        expectKey: object,
      };
      if (stack.length === 2 && stack[1] === tenantsFrame) tenantStart = i;
      else if (stack.length === 1 && stack[0]?.object && stack[0].at === 'tenants' && !object) {
        if (tenantsFrame === undefined) tenantsFrame = frame;
      }
      stack.push(frame);
    } else if (code === 0x7d /* } */ || code === 0x5d /* ] */) {
      const frame = stack.pop();
      if (stack.length === 2 && stack[1] === tenantsFrame && tenantStart !== -1) {
        tenants.push({ start: tenantStart, end: i + 1 });
        tenantStart = -1;
      } else if (frame !== undefined && frame === tenantsFrame) {
        tenantItems = (frame.at as number) + 1;
      }
    } else if (code === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top === undefined) continue;
      if (top.object) top.expectKey = true;
      else top.at = (top.at as number) + 1;
    }
  }
  // Every item bracketed (an empty array, or a bare value in it, gets no places).
  const complete = tenants.length > 0 && tenants.length === tenantItems;
  return complete ? { duplicates, tenants } : { duplicates };
}

function readKey(quoted: string): string {
  if (!quoted.includes('\\')) return quoted.slice(1, -1);
  try {
    return JSON.parse(quoted) as string;
  } catch {
    return quoted.slice(1, -1);
  }
}
