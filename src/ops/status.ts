// The status page on the admin listener: the service, every tenant and what each family gets, the watcher, explain.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { Config } from '../config/model.js';
import { decide } from '../discovery/decide.js';
import { type Explanation, explainRequest } from '../discovery/explain.js';
import { deviceQuery } from '../discovery/query.js';
import { readAnswer } from '../discovery/response.js';
import { type CompiledTenant, findTenant, type RoutingTable } from '../discovery/table.js';
import { createRateLimiter } from '../http/rate-limit.js';
import { APPLE_BUSINESS_DEFERRAL, MODEL_FAMILIES } from '../protocol.js';
import type { DomainWatch } from '../watch/round.js';
import type { ReloadStatus } from './reloader.js';

/** What the page reads: the very state the server serves from. */
export interface StatusSource {
  readonly version: string;
  readonly configSource: string;
  readonly startedAt: Date;
  config(): Config;
  table(): RoutingTable;
  lastReload(): ReloadStatus;
  requestsByOutcome(): Promise<Record<string, number>>;
  watch?: () => { readonly lastRound: string | null; readonly domains: readonly DomainWatch[] };
}

export interface GateOptions {
  /** The admin token: set (ADMIN_TOKEN, ADMIN_TOKEN_FILE) or generated for this run. */
  readonly token: string;
  /**
   * Whether the token is needed: true unless the listener is bound to loopback addresses only
   * (decided on the bound addresses, ops/admin.ts).
   */
  readonly needsToken: () => boolean;
}

/** The admin gate, as route hooks: the page answers with a sign-in form, the API with JSON. */
export interface AdminGate {
  readonly page: onRequestHookHandler;
  readonly api: onRequestHookHandler;
  /** The cookie value a signed-in browser holds (a keyed hash of the token), when a token is set. */
  readonly cookieValue: string;
}

/** Tenants per page of the table (a 10,000-tenant config is paged, and searched server-side). */
export const PAGE_SIZE = 50;
const COOKIE = 'mdm_admin';
const FAMILIES = [...MODEL_FAMILIES, 'absent'] as const;

const CSS = `
:root{color-scheme:light dark;--line:#8884;--muted:#888;--ok:#1a7f37;--warn:#9a6700;--bad:#cf222e}
*{box-sizing:border-box}body{font:15px/1.45 system-ui,sans-serif;margin:0;padding:1rem;max-width:1400px}
h1{font-size:1.3rem;margin:.2rem 0 1rem}h2{font-size:1.1rem;margin:1.6rem 0 .5rem}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid var(--line);padding:.35rem .5rem;text-align:left;vertical-align:top}
th{font-weight:600}.scroll{overflow-x:auto}.muted{color:var(--muted)}.ok{color:var(--ok)}.warn{color:var(--warn)}.bad{color:var(--bad)}
code,pre{font:13px/1.4 ui-monospace,monospace}pre{white-space:pre-wrap;word-break:break-all;background:#8881;padding:.6rem;margin:.3rem 0}
ol{margin:0;padding-left:1.2rem}tr.tenant td{border-bottom:none}tr.rules td{padding-top:0;font-size:.9rem}form{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end;margin:.5rem 0}
label{display:flex;flex-direction:column;font-size:.85rem}input,select,button{font:inherit;padding:.3rem .4rem}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}.cell{white-space:nowrap}
nav.pages{margin:.5rem 0;display:flex;gap:1rem}
@media (max-width:600px){body{padding:.6rem;font-size:14px}th,td{padding:.3rem}}
`;

/** The only inline content the page has: its stylesheet, allowed by hash. No script at all. */
const CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(CSS).digest('base64')}'`,
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

function html(text: unknown): string {
  return String(text).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${html(title)}</title><style>${CSS}</style></head><body>${body}</body></html>`;
}

function send(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', CSP)
    .header('cache-control', 'no-store')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .send(html);
}

/**
 * What a device of each family gets from a tenant, as `probe@<domain>` (the compiled table
 * decides): the version, and the BaseURL host where it is not the tenant's own.
 */
function matrix(table: RoutingTable, host: string, domain: string, ownHost: string): string[] {
  return FAMILIES.map((family) => {
    const query = deviceQuery(`probe@${domain}`, family === 'absent' ? undefined : family);
    const { status, body, headers } = decide(table, { host, search: query }).response;
    const { server } = readAnswer(body);
    if (status === 200 && server) {
      const where = new URL(server.baseUrl).host;
      return `<span class="ok" title="${html(server.baseUrl)}">${html(server.version)}</span>${where === ownHost ? '' : `<br><span class="muted">${html(where)}</span>`}`;
    }
    if (status >= 300 && status < 400) {
      return `<span class="warn">${status} →</span><br><span class="muted">${html(new URL(headers.location ?? 'https://invalid').host)}</span>`;
    }
    return `<span class="${status === 403 ? 'warn' : 'bad'}">${status}</span>`;
  });
}

/** An action in a few words: `enroll mdm-byod manage.microsoft.com`, `403 "message"`, `404`, `302 → host`. */
function actionText(action: CompiledTenant['action']): string {
  switch (action.outcome) {
    case 'redirect':
      return `${action.redirect.status} → ${new URL(action.redirect.base).host}`;
    case 'enroll': {
      const { server } = readAnswer(action.response.body);
      return `enroll ${server?.version} ${server ? new URL(server.baseUrl).host : ''}`;
    }
    case 'reject':
      return `403 "${readAnswer(action.response.body).message}"`;
    case 'apple_business':
      return '404: defers to Apple Business';
    default:
      return '404';
  }
}

function tenantsSection(source: StatusSource, q: string, pageNumber: number): string {
  const config = source.config();
  const table = source.table();
  const needle = q.trim().toLowerCase();
  const found =
    needle === ''
      ? config.tenants
      : config.tenants.filter(
          (t) => t.name.toLowerCase().includes(needle) || t.domains.some((d) => d.includes(needle)),
        );
  const pages = Math.max(1, Math.ceil(found.length / PAGE_SIZE));
  const current = Math.min(Math.max(1, pageNumber), pages);
  const shown = found.slice((current - 1) * PAGE_SIZE, current * PAGE_SIZE);
  const rows = shown.map((tenant) => {
    const first = tenant.domains[0] as string;
    const domain = first.startsWith('*.') ? `probe.${first.slice(2)}` : first;
    const compiled = findTenant(table, domain);
    const rules = compiled?.rules.length
      ? `<ol>${compiled.rules
          .map(
            (r) =>
              `<li><b>${html(r.name)}</b>: ${r.conditions.map((c) => html(c.label)).join(' and ')} → ${html(actionText(r.action))}</li>`,
          )
          .join('')}</ol>`
      : '<span class="muted">none</span>';
    const own = compiled ? actionText(compiled.action) : '';
    const ownHost = own.startsWith('enroll ') ? (own.split(' ')[2] ?? '') : '';
    const cells = matrix(table, domain, domain.replace(/^probe\./, ''), ownHost)
      .map((c) => `<td class="cell">${c}</td>`)
      .join('');
    // The rules in a row of their own, under the tenant: the family columns stay narrow.
    // Where `mdm-discovery sync` took the tenant from, and when it last changed it.
    const synced = tenant.sync
      ? `<br><span class="muted">synced from ${html(tenant.sync.from)}, ${html(tenant.sync.at.slice(0, 16).replace('T', ' '))} UTC</span>`
      : '';
    return `<tr class="tenant"><td><b>${html(tenant.name)}</b>${synced}</td><td>${tenant.domains.map(html).join('<br>')}</td><td>${html(own)}</td>${cells}</tr><tr class="rules"><td></td><td colspan="${FAMILIES.length + 2}"><span class="muted">rules:</span> ${rules}</td></tr>`;
  });
  const link = (n: number, text: string) =>
    `<a href="/status?q=${encodeURIComponent(q)}&amp;page=${n}#tenants">${text}</a>`;
  const nav = `<nav class="pages"><span>${found.length} of ${config.tenants.length} tenants, page ${current} of ${pages}</span>${current > 1 ? link(current - 1, '← previous') : ''}${current < pages ? link(current + 1, 'next →') : ''}</nav>`;
  return `<h2 id="tenants">Tenants</h2>
<form method="get" action="/status#tenants"><label>Search name or domain<input name="q" value="${html(q)}" placeholder="contoso"></label><button>Search</button></form>
${nav}<div class="scroll"><table id="tenant-table"><thead><tr><th>Tenant</th><th>Domains</th><th>Own action</th>${FAMILIES.map((f) => `<th>${f}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table></div>
<p class="muted">Each family column is what a device of that family gets as <code>probe@&lt;domain&gt;</code>: the version (and the BaseURL host where it is not the tenant's own), or the status. Rules are checked in order.</p>`;
}

function watchSection(source: StatusSource): string {
  if (source.watch === undefined) {
    return '<h2 id="watch">Watch</h2><p class="muted">The watcher is off (set WATCH_INTERVAL; docs/watch.md).</p>';
  }
  const { lastRound, domains } = source.watch();
  const rows = domains.map((d) => {
    const drifted = Object.values(d.matches).some((m) => !m);
    const state = d.up
      ? '<span class="ok">up</span>'
      : drifted
        ? '<span class="bad">drifted</span>'
        : '<span class="bad">down</span>';
    // watch/round.ts allChecks, inline: ops does not load watch/ (a type import only).
    const failing = [...d.checks, ...(d.deep?.checks ?? [])]
      .filter((c) => c.verdict === 'fail' || c.verdict === 'warn')
      .map(
        (c) =>
          `<li class="${c.verdict === 'fail' ? 'bad' : 'warn'}">${html(c.label)}: ${html(c.detail)}${c.fix ? `<br><span class="muted">fix: ${html(c.fix)}</span>` : ''}</li>`,
      )
      .join('');
    const date = (seconds: number) => new Date(seconds * 1000).toISOString().slice(0, 10);
    const expiry = [
      ...(d.certificateExpiry === undefined ? [] : [date(d.certificateExpiry)]),
      ...(d.deep?.baseUrlCertificates ?? []).map(
        (b) => `<br><span class="muted">BaseURL ${html(b.host)}: ${date(b.expiry)}</span>`,
      ),
    ].join('');
    return `<tr><td>${html(d.domain)}<br><span class="muted">${html(d.tenant)}</span></td><td>${state}</td><td>${failing ? `<ul>${failing}</ul>` : '<span class="muted">none</span>'}</td><td>${expiry}</td><td>${html(d.checkedAt)}</td></tr>`;
  });
  return `<h2 id="watch">Watch</h2><p>Last round: ${lastRound === null ? 'none yet' : html(lastRound)}</p>
<div class="scroll"><table><thead><tr><th>Domain</th><th>State</th><th>Failing and warning checks</th><th>Certificate expires</th><th>Checked</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>`;
}

function explainSection(query: Record<string, string>, result?: Explanation): string {
  const family = query.family ?? '';
  const options = ['', ...MODEL_FAMILIES]
    .map(
      (f) =>
        `<option value="${f}"${f === family ? ' selected' : ''}>${f === '' ? '(absent)' : f}</option>`,
    )
    .join('');
  let trace = '';
  if (result) {
    const rules = result.rules
      .map(
        (r) =>
          `<li><b>${html(r.rule)}</b>: ${r.matched ? '<span class="ok">matched</span>' : '<span class="muted">no match</span>'}<ul>${r.conditions
            .map(
              (c) =>
                `<li>${c.held ? '<span class="ok">yes</span>' : '<span class="bad">no</span>'} ${html(c.label)}</li>`,
            )
            .join('')}</ul></li>`,
      )
      .join('');
    const http = [
      `HTTP/1.1 ${result.response.status} ${STATUS_CODES[result.response.status] ?? ''}`,
      ...Object.entries(result.response.headers).map(([k, v]) => `${k}: ${v}`),
      '',
      result.response.body,
    ].join('\n');
    trace = `<div id="explain-result"><p>Tenant: ${result.tenant === null ? '<span class="bad">none: no tenant serves this host</span>' : `<b>${html(result.tenant)}</b> (chosen by ${html(result.tenantBy)})`}</p>
${rules ? `<ol class="rules">${rules}</ol>` : ''}<p>Decision: <b>${html(result.outcome)}</b>${result.rule ? ` by rule "${html(result.rule)}"` : result.tenant ? " by the tenant's own action" : ''}${result.outcome === 'apple_business' ? `: ${html(APPLE_BUSINESS_DEFERRAL)}` : ''}</p>
<p class="muted">GET ${html(result.request.path)}</p><pre>${html(http)}</pre></div>`;
  }
  return `<h2 id="explain">Explain</h2>
<form method="get" action="/status#explain"><label>Host<input name="host" required value="${html(query.host ?? '')}" placeholder="contoso.com"></label><label>user-identifier<input name="user" value="${html(query.user ?? '')}" placeholder="ann@contoso.com"></label><label>model-family<select name="family">${options}</select></label><button>Explain</button></form>${trace}`;
}

async function serviceSection(
  source: StatusSource,
  since: { readonly at: number; readonly totals: Record<string, number> } | undefined,
): Promise<string> {
  const reload = source.lastReload();
  const totals = await source.requestsByOutcome();
  const recent = Object.entries(totals)
    .map(([outcome, n]) => [outcome, n - (since?.totals[outcome] ?? 0)] as const)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1]);
  const uptime = Math.floor((Date.now() - source.startedAt.getTime()) / 1000);
  const facts = [
    ['version', html(source.version)],
    [
      'config',
      `${html(source.configSource)}, generation ${reload.generation}, ${source.config().tenants.length} tenants`,
    ],
    [
      'last reload',
      `${html(reload.at.toISOString())}: ${reload.ok ? '<span class="ok">taken</span>' : '<span class="bad">refused; the last good config keeps serving</span>'}`,
    ],
    [
      'uptime',
      `${Math.floor(uptime / 3600)} h ${Math.floor((uptime % 3600) / 60)} min ${uptime % 60} s`,
    ],
    [
      since === undefined
        ? 'answers since start'
        : `answers, last ${Math.round((Date.now() - since.at) / 60_000)} min`,
      recent.length === 0
        ? '<span class="muted">none</span>'
        : recent.map(([o, n]) => `${html(o)} ${n}`).join(', '),
    ],
  ];
  const errors = reload.ok
    ? ''
    : `<pre id="reload-errors" class="bad">${html(reload.errors.join('\n'))}</pre>`;
  return `<h2 id="service">Service</h2><div class="facts">${facts.map(([k, v]) => `<span class="muted">${k}</span><span>${v}</span>`).join('')}</div>${errors}`;
}

/** Whether `given` is the secret `expected`, in time that does not depend on where they differ. */
function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The gate of the status page and /watch, set on each gated route (ops/admin.ts), so that it
 * holds for every spelling the router matches (`/%73tatus`, `/status?x`): it decides on the route
 * that will answer, never on the text of the URL.
 */
export function adminGate(options: GateOptions): AdminGate {
  const { token } = options;
  // The cookie holds a keyed hash of the token, not the token itself.
  const cookieValue = createHmac('sha256', token)
    .update('mdm-discovery admin cookie')
    .digest('hex');
  const authorized = (request: FastifyRequest): boolean => {
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (bearer !== undefined) return sameSecret(bearer, token);
    const cookie = cookieOf(request.headers.cookie, COOKIE);
    return cookie !== undefined && sameSecret(cookie, cookieValue);
  };
  const refuse = (request: FastifyRequest, reply: FastifyReply, api: boolean) => {
    if (!options.needsToken() || authorized(request)) return undefined;
    if (api) {
      return reply
        .code(401)
        .send({ status: 'unauthorized', message: 'send the admin token as a bearer token' });
    }
    return send(reply, 401, loginPage(SIGN_IN));
  };
  return {
    page: async (request, reply) => refuse(request, reply, false),
    api: async (request, reply) => refuse(request, reply, true),
    cookieValue,
  };
}

function cookieOf(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

/**
 * The one token a sign-in sends: a form's single `token` field, or a JSON body's `token` string.
 * Anything else (a number, a list, the field twice, no body) is undefined, answered 400.
 */
function loginToken(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const value = (body as { token?: unknown }).token;
  return typeof value === 'string' ? value : undefined;
}

const SIGN_IN =
  'Enter the admin token: ADMIN_TOKEN, the content of ADMIN_TOKEN_FILE, or the one this run generated (its sign-in URL is in the log).';

function loginPage(message: string): string {
  return page(
    'mdm-discovery status: sign in',
    `<h1>mdm-discovery status</h1><p>${html(message)}</p><form method="post" action="/login"><label>Admin token<input name="token" type="password" required autocomplete="current-password"></label><button>Sign in</button></form>`,
  );
}

/**
 * GET / and /status (the page), POST /login (the token, kept in an HttpOnly, SameSite=Strict
 * cookie). When gated, the page and /watch need the token; /healthz, /readyz and /metrics never do.
 */
export function statusRoutes(
  app: FastifyInstance,
  source: StatusSource,
  gate: AdminGate,
  token: string,
): void {
  const { cookieValue } = gate;
  const explainLimiter = createRateLimiter({ perMinute: 120 });
  const snapshots: { at: number; totals: Record<string, number> }[] = [];
  const snap = setInterval(() => {
    void source.requestsByOutcome().then((totals) => {
      snapshots.push({ at: Date.now(), totals });
      while (snapshots.length > 6) snapshots.shift();
    });
  }, 60_000);
  snap.unref();
  app.addHook('onClose', async () => clearInterval(snap));

  // A field sent twice is kept as a list of both, so that /login can refuse two tokens.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => {
      const fields: Record<string, string | string[]> = Object.create(null);
      for (const [key, value] of new URLSearchParams(body as string)) {
        const before = fields[key];
        fields[key] = before === undefined ? value : [before, value].flat();
      }
      done(null, fields);
    },
  );

  const signIn = (given: string, reply: FastifyReply) => {
    if (!sameSecret(given, token)) {
      return send(reply, 401, loginPage('That token is not the admin token.'));
    }
    return reply
      .header('set-cookie', `${COOKIE}=${cookieValue}; HttpOnly; SameSite=Strict; Path=/`)
      .redirect('/status', 303);
  };
  app.post('/login', async (request, reply) => {
    const given = loginToken(request.body);
    if (given === undefined) {
      return send(reply, 400, loginPage('Send one admin token, as the form does.'));
    }
    return signIn(given, reply);
  });
  // The sign-in URL a generated token is logged with (`/login?token=…`): the cookie is set and the
  // browser sent on to /status, so the token leaves the address bar. Without a token, the form.
  app.get('/login', async (request, reply) => {
    const given = new URL(request.url, 'http://admin').searchParams.getAll('token');
    if (given.length === 0) return send(reply, 200, loginPage(SIGN_IN));
    if (given.length > 1) return send(reply, 400, loginPage('Send one admin token.'));
    return signIn(given[0] as string, reply);
  });

  const render = async (request: FastifyRequest, reply: FastifyReply) => {
    const query = Object.fromEntries(new URL(request.url, 'http://admin').searchParams) as Record<
      string,
      string
    >;
    let explained: Explanation | undefined;
    if (query.host) {
      const wait = explainLimiter.hit(request.ip);
      if (wait > 0) {
        return send(
          reply.header('retry-after', String(wait)),
          429,
          page('Too many requests', '<p>Too many explain requests; wait a minute.</p>'),
        );
      }
      explained = explainRequest(
        source.table(),
        source.configSource,
        query.host,
        query.user || undefined,
        query.family || undefined,
      );
    }
    // The counts of about five minutes ago (snapshots are taken every minute), or since start.
    const since = snapshots.find((s) => Date.now() - s.at <= 5.5 * 60_000);
    const body = `<h1>mdm-discovery status</h1>${await serviceSection(source, since)}${tenantsSection(source, query.q ?? '', Number(query.page) || 1)}${watchSection(source)}${explainSection(query, explained)}`;
    return send(reply, 200, page('mdm-discovery status', body));
  };
  app.get('/', { onRequest: gate.page }, render);
  app.get('/status', { onRequest: gate.page }, render);
}
