// The one DER reader verify needs: the tag and the bounds of the element at an offset.

export interface DerElement {
  readonly tag: number | undefined;
  /** Where the content starts, and where it ends (the next element's offset). */
  readonly start: number;
  readonly end: number;
}

/** The element at `at` of `der`: its tag byte, and its content's bounds (long lengths too). */
export function derElement(der: Buffer, at: number): DerElement {
  let length = der[at + 1] ?? 0;
  let start = at + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + (der[start + i] ?? 0);
    start += bytes;
  }
  return { tag: der[at], start, end: start + length };
}
