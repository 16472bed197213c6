// Whether to colour output, decided in one place: FORCE_COLOR, then NO_COLOR, then the terminal.

/**
 * FORCE_COLOR set (other than `0`) colours even a pipe; NO_COLOR set and not empty never colours
 * (https://no-color.org); otherwise colour only a terminal. The same order as Node's own
 * `util.styleText`, which Node 20 does not yet apply to a given stream.
 */
export function colorFor(
  stream: { readonly isTTY?: boolean },
  env: Readonly<Record<string, string | undefined>>,
): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return stream.isTTY === true;
}

/** `paint(31, 'no')`: the text in an SGR colour when `color`, else the text alone. */
export function painter(color: boolean): (code: number, text: string) => string {
  return color ? (code, text) => `\x1b[${code}m${text}\x1b[0m` : (_code, text) => text;
}
