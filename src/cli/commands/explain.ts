// `mdm-discovery explain`: which tenant and rule decide a request, why, and the exact answer.

import { STATUS_CODES } from 'node:http';
import { compileConfig } from '../../config/compile.js';
import {
  configLabel,
  DEFAULT_CONFIG_PATH,
  type LoadOptions,
  loadConfig,
} from '../../config/load.js';
import { type Explanation, explainRequest } from '../../discovery/explain.js';
import { securityHeaders } from '../../http/security-headers.js';
import { APPLE_BUSINESS_DEFERRAL } from '../../protocol.js';
import { parse } from '../args.js';
import { painter } from '../color.js';
import { type Command, UsageError } from '../command.js';

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

export const explainCommand: Command = {
  usage: USAGE,
  async run(args, { io, settings, color }) {
    const { values, positionals } = parse(args, {
      host: { type: 'string' },
      user: { type: 'string' },
      'model-family': { type: 'string' },
      config: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    if (!values.host) throw new UsageError('--host is required');
    const configPath = values.config ?? settings.MDM_DISCOVERY_CONFIG ?? DEFAULT_CONFIG_PATH;
    // An invalid config is the dispatcher's to report (ConfigError: exit 1).
    const explanation = await explain(
      configPath,
      values.host,
      values.user,
      values['model-family'],
      {
        usersFileRoots: settings.USERS_FILE_ROOTS,
      },
    );
    io.stdout.write(
      values.json ? `${JSON.stringify(explanation, null, 2)}\n` : render(explanation, color),
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
  const label = configLabel(configPath);
  return explainRequest(table, label, host, user, modelFamily);
}

function render(e: Explanation, color: boolean): string {
  const paint = painter(color);
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
    ...(e.outcome === 'apple_business' ? [`         ${APPLE_BUSINESS_DEFERRAL}`] : []),
    '',
    `HTTP/1.1 ${e.response.status} ${STATUS_CODES[e.response.status] ?? ''}`,
    ...Object.entries(e.response.headers).map(([k, v]) => `${k}: ${v}`),
    '',
  );
  if (e.response.body !== '') lines.push(e.response.body);
  return `${lines.join('\n')}\n`;
}
