// verify's checklist for people: one line per check, the fix under each warning and failure.

import type { ConfigReport } from './against-config.js';
import type { Verdict } from './checks.js';
import type { Report } from './verify.js';

const MARK: Record<Verdict, [string, number]> = {
  pass: ['✓', 32],
  warn: ['!', 33],
  fail: ['✗', 31],
  info: ['·', 90],
};

/**
 * C0 and C1 controls (escape sequences, carriage return, newline), DEL, and the Unicode controls
 * that reorder or hide text. Whatever the checked server sent (a 403 message, a BaseURL, a header)
 * reaches a terminal only as visible escapes: it cannot clear the screen, set the window title,
 * or forge a "PASS" line.
 */
const UNPRINTABLE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
  /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g;

export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

export function renderReport(report: Report, color: boolean): string {
  const colored = (code: number, text: string) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
  // Every text is made printable as it is placed; only the colours add escape sequences.
  const paint = (code: number, text: string) => colored(code, printable(text));
  const lines = [`verify ${printable(report.target)}`, `user-identifier ${printable(report.user)}`];
  let section = '';
  for (const c of report.checks) {
    if (c.section === 'answers') continue;
    if (c.section !== section) {
      section = c.section;
      lines.push('', paint(1, section));
    }
    const [mark, code] = MARK[c.verdict];
    lines.push(`  ${paint(code, mark)} ${printable(c.label.padEnd(15))} ${printable(c.detail)}`);
    if (c.fix) lines.push(`    ${' '.repeat(16)}${paint(90, `fix: ${c.fix}`)}`);
  }
  if (report.answers.length > 0) {
    lines.push('', paint(1, 'answers by model family'));
    for (const a of report.answers) lines.push(...answerLines(a, paint));
  }
  lines.push('', paint(1, 'not checked (no check here can see it)'));
  for (const n of report.cannotSee) lines.push(`  ${paint(90, '·')} ${n}`);
  const { pass, warn, fail } = report.counts;
  const summary = `${fail} failed, ${warn} warning${warn === 1 ? '' : 's'}, ${pass} passed`;
  const [, code] = MARK[report.verdict];
  lines.push('', paint(code, `${report.verdict.toUpperCase()}: ${summary}`), '');
  return lines.join('\n');
}

/** What one model family got, and what each band of systems does with it. */
function answerLines(
  a: Report['answers'][number],
  paint: (code: number, text: string) => string,
): string[] {
  const what =
    a.status === null
      ? 'no answer'
      : a.baseUrl
        ? `${a.status}  ${a.version}  ${a.baseUrl}`
        : `${a.status}${a.message ? `  "${a.message}"` : ''}`;
  const lines = [`  ${printable(a.modelFamily.padEnd(14))} ${printable(what)}`];
  const systems = a.systems ?? [];
  if (systems.length > 0 && systems.every((x) => x.outcome === systems[0]?.outcome)) {
    lines.push(`    ${paint(90, `every system: ${systems[0]?.outcome}`)}`);
  } else {
    for (const x of systems) lines.push(`    ${paint(90, `${x.systems}: ${x.outcome}`)}`);
  }
  return lines;
}

/** verify --config: one line per domain, then the details of each domain that failed. */
export function renderConfigReport(result: ConfigReport, color: boolean): string {
  const colored = (code: number, text: string) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
  const lines: string[] = [];
  for (const d of result.domains) {
    const [mark, code] = MARK[d.verdict];
    lines.push(
      `${colored(code, mark)} ${printable(d.domain)} (${printable(d.tenant)}): ${printable(d.summary)}`,
    );
  }
  for (const n of result.notChecked) {
    lines.push(`${colored(90, '·')} ${printable(n.tenant)}: not checked: ${printable(n.reason)}`);
  }
  for (const d of result.domains.filter((x) => x.verdict === 'fail')) {
    lines.push('', colored(1, `── ${printable(d.domain)}`));
    for (const c of d.comparisons.filter((x) => !x.matches)) {
      lines.push(`  ${colored(31, '✗')} ${printable(c.modelFamily)} ${printable(c.user)}`);
      lines.push(`      public: ${printable(c.public)}`);
      lines.push(`      config: ${printable(c.expected)}`);
    }
    for (const c of d.report.checks.filter((x) => x.verdict === 'fail')) {
      lines.push(`  ${colored(31, '✗')} ${printable(c.label)}: ${printable(c.detail)}`);
      if (c.fix) lines.push(`      ${colored(90, `fix: ${printable(c.fix)}`)}`);
    }
  }
  const failed = result.domains.filter((d) => d.verdict === 'fail').length;
  const [, code] = MARK[result.verdict];
  lines.push(
    '',
    colored(
      code,
      `${result.verdict.toUpperCase()}: ${failed} of ${result.domains.length} domain${result.domains.length === 1 ? '' : 's'} failed`,
    ),
    '',
  );
  return lines.join('\n');
}
