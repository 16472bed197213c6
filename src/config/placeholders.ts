// Leftover placeholders from samples and templates: the most common cause of a broken discovery answer.

const ANYWHERE: readonly RegExp[] = [
  /youraadtenantid/i, // Microsoft's sample BaseURL
  /<[^<>]*>/, // <tenant-guid>, <jamf-host>
  /\{\{[^{}]*\}\}/, // {{tenantId}} from a template engine
  /\$\{[^{}]*\}/, // ${TENANT_ID} never expanded
  /\bTODO\b/,
  /\bREPLACE[A-Z_-]*/,
  /\bCHANGEME\b/i,
];

/** Values that, standing alone (a whole value, a URL segment or a query value), are placeholders. */
const ALONE = new Set(['undefined', 'null', 'aadtenantid', 'tenantid', 'your-tenant-id', 'xxx']);

/** The placeholder text found in a value, or undefined when there is none. */
export function findPlaceholder(value: string): string | undefined {
  for (const pattern of ANYWHERE) {
    const match = pattern.exec(value);
    if (match) return match[0];
  }
  for (const token of tokens(value)) {
    if (ALONE.has(token.toLowerCase())) return token;
  }
  return undefined;
}

/** The whole value, its URL path segments and query values (names are skipped: `aadTenantId=` is fine). */
function tokens(value: string): string[] {
  const out = [value];
  for (const part of value.split(/[/?&#]/)) {
    const eq = part.indexOf('=');
    out.push(eq === -1 ? part : part.slice(eq + 1));
  }
  return out;
}
