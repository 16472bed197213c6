// verify's checklist for people: one line per check, the fix under each warning and failure.
import type { Verdict } from './checks.js';
import type { Report } from './verify.js';

const MARK: Record<Verdict, [string, number]> = {
  pass: ['✓', 32],
  warn: ['!', 33],
  fail: ['✗', 31],
  info: ['·', 90],
};

export function renderReport(report: Report, color: boolean): string {
  const paint = (code: number, text: string) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
  const lines = [`verify ${report.target}`, `user-identifier ${report.user}`];
  let section = '';
  for (const c of report.checks) {
    if (c.section === 'answers') continue;
    if (c.section !== section) {
      section = c.section;
      lines.push('', paint(1, section));
    }
    const [mark, code] = MARK[c.verdict];
    lines.push(`  ${paint(code, mark)} ${c.label.padEnd(15)} ${c.detail}`);
    if (c.fix) lines.push(`    ${' '.repeat(16)}${paint(90, `fix: ${c.fix}`)}`);
  }
  if (report.answers.length > 0) {
    lines.push('', paint(1, 'answers by model family'));
    for (const a of report.answers) {
      const what =
        a.status === null
          ? 'no answer'
          : a.baseUrl
            ? `${a.status}  ${a.version}  ${a.baseUrl}`
            : `${a.status}${a.message ? `  "${a.message}"` : ''}`;
      lines.push(`  ${a.modelFamily.padEnd(14)} ${what}`);
    }
  }
  const { pass, warn, fail } = report.counts;
  const summary = `${fail} failed, ${warn} warning${warn === 1 ? '' : 's'}, ${pass} passed`;
  const [, code] = MARK[report.verdict];
  lines.push('', paint(code, `${report.verdict.toUpperCase()}: ${summary}`), '');
  return lines.join('\n');
}
