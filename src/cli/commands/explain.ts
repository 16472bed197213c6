// `mdm-discovery explain`: which tenant and rule decide a request, why, and the exact answer.
import { STATUS_CODES } from 'node:http';
import { compileConfig } from '../../config/compile.js';
import { DEFAULT_CONFIG_PATH, type LoadOptions, loadConfig } from '../../config/load.js';
import { ConfigError } from '../../config/problems.js';
import { type DecideTrace, decide } from '../../discovery/decide.js';
import { WELL_KNOWN_PATH } from '../../http/routes/discovery.js';
import { securityHeaders } from '../../http/security-headers.js';
import { configSourceFromEnvironment } from '../../server.js';
import { parse, UsageError } from '../args.js';
import type { Command, Io } from '../run.js';

const USAGE = `Usage: mdm-discovery explain --host HOST [--user ID] [--model-family FAMILY] [--config PATH] [--json]

Shows which tenant and rule answer a discovery request, why, and the exact response
(status, headers, body) a device would get. Uses the server's own decision code.

Options:
  --host HOST            the domain the device asks (the Host header), e.g. contoso.com
  --user ID              user-identifier, e.g. joe@contoso.com (omit to ask without one)
  --model-family FAMILY  AppleTV, iPad, iPhone, Mac, RealityDevice or Watch (omit: absent)
  --config PATH          config file or directory (default: $MDM_DISCOVERY_CONFIG, else the demo)
  --json                 print the same as JSON

Exit codes: 0 explained, 1 the config is invalid, 2 usage error.
`;

export interface Explanation {
  readonly config: string;
  readonly request: {
    readonly host: string;
    readonly userIdentifier: string | null;
    readonly modelFamily: string | null;
    readonly path: string;
  };
  readonly tenant: string | null;
  readonly tenantBy: string | null;
  readonly rule: string | null;
  readonly outcome: string;
  readonly rules: DecideTrace['rules'];
  readonly response: {
    readonly status: number;
    readonly headers: Readonly<Record<string, string>>;
    readonly body: string;
  };
}

export const explainCommand: Command = {
  summary: 'show which tenant and rule answer a request, and the exact response',
  usage: USAGE,
  async run(args, io) {
    let values: {
      host?: string;
      user?: string;
      'model-family'?: string;
      config?: string;
      json?: boolean;
    };
    try {
      const parsed = parse(args, {
        host: { type: 'string' },
        user: { type: 'string' },
        'model-family': { type: 'string' },
        config: { type: 'string' },
        json: { type: 'boolean' },
      });
      if (parsed.positionals.length > 0)
        throw new UsageError(`unexpected argument "${parsed.positionals[0]}"`);
      values = parsed.values;
      if (!values.host) throw new UsageError('--host is required');
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      io.stderr.write(`mdm-discovery explain: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    const source = configSourceFromEnvironment();
    const configPath = values.config ?? source.path;
    let explanation: Explanation;
    try {
      explanation = await explain(configPath, values.host, values.user, values['model-family'], {
        usersFileRoots: source.usersFileRoots,
      });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      io.stderr.write(`mdm-discovery: ${error.message}\n`);
      return 1;
    }
    io.stdout.write(
      values.json ? `${JSON.stringify(explanation, null, 2)}\n` : render(explanation, io),
    );
    return 0;
  },
};

export async function explain(
  configPath: string,
  host: string,
  user: string | undefined,
  modelFamily: string | undefined,
  options: LoadOptions = {},
): Promise<Explanation> {
  const config = await loadConfig(configPath, options);
  const table = compileConfig(config, securityHeaders());
  const search = [
    user === undefined ? undefined : `user-identifier=${encodeURIComponent(user)}`,
    modelFamily === undefined ? undefined : `model-family=${encodeURIComponent(modelFamily)}`,
  ]
    .filter(Boolean)
    .join('&');
  const trace: DecideTrace = { rules: [] };
  const decision = decide(table, { host, search }, trace);
  return {
    config: configPath === DEFAULT_CONFIG_PATH ? '(embedded demo config)' : configPath,
    request: {
      host,
      userIdentifier: user ?? null,
      modelFamily: modelFamily ?? null,
      path: search === '' ? WELL_KNOWN_PATH : `${WELL_KNOWN_PATH}?${search}`,
    },
    tenant: decision.tenant ?? null,
    tenantBy: decision.tenant === undefined ? null : (trace.tenantBy ?? null),
    rule: decision.rule ?? null,
    outcome: decision.outcome,
    rules: trace.rules,
    response: {
      status: decision.response.status,
      headers: decision.response.headers,
      body: decision.response.body,
    },
  };
}

function render(e: Explanation, io: Io): string {
  const color = (io.stdout as { isTTY?: boolean }).isTTY === true && !io.env?.NO_COLOR;
  const paint = (code: number, text: string) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
  const lines = [
    `config   ${e.config}`,
    `request  GET ${e.request.path}`,
    `         Host: ${e.request.host}`,
    e.tenant === null
      ? 'tenant   none: no tenant serves this host'
      : `tenant   "${e.tenant}" (chosen by ${e.tenantBy})`,
  ];
  if (e.rules.length > 0) {
    lines.push('rules');
    e.rules.forEach((r, i) => {
      lines.push(
        `  ${i + 1}. ${r.rule}: ${r.matched ? paint(32, 'matched') : paint(90, 'no match')}`,
      );
      for (const c of r.conditions)
        lines.push(`       ${c.held ? paint(32, 'yes') : paint(31, 'no ')}  ${c.label}`);
    });
  }
  lines.push(
    `decision ${e.outcome}${e.rule ? ` by rule "${e.rule}"` : e.tenant ? " by the tenant's own action" : ''}`,
    '',
    `HTTP/1.1 ${e.response.status} ${STATUS_CODES[e.response.status] ?? ''}`,
    ...Object.entries(e.response.headers).map(([k, v]) => `${k}: ${v}`),
    '',
  );
  if (e.response.body !== '') lines.push(e.response.body);
  return `${lines.join('\n')}\n`;
}
