// Users files: one user-identifier per line, `#` comments, for migration cohorts of any size.
import { excerpt } from './problems.js';

export interface UsersFile {
  /** Lower-cased identifiers. */
  readonly users: ReadonlySet<string>;
  /** Bad lines, at most MAX_REPORTED of them, with their line numbers. */
  readonly problems: readonly { readonly line: number; readonly message: string }[];
  /** How many bad lines there were in all. */
  readonly badLines: number;
}

const MAX_REPORTED = 20;

export function parseUsersFile(text: string): UsersFile {
  const users = new Set<string>();
  const problems: { line: number; message: string }[] = [];
  let badLines = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    const hash = raw.indexOf('#');
    const entry = (hash === -1 ? raw : raw.slice(0, hash)).trim();
    if (entry.length === 0) continue;
    const at = entry.lastIndexOf('@');
    if (/\s/.test(entry) || at <= 0 || at === entry.length - 1) {
      badLines++;
      if (problems.length < MAX_REPORTED) {
        problems.push({
          line: i + 1,
          message: `"${excerpt(entry, 40)}" is not a user-identifier like joe@contoso.com`,
        });
      }
      continue;
    }
    users.add(entry.toLowerCase());
  }
  return { users, problems, badLines };
}
