// `mdm-discovery validate`: checks a config the way the server would, with every error and warning.
import { DEFAULT_CONFIG_PATH, loadConfig } from '../../config/load.js';
import type { Config } from '../../config/model.js';
import { intuneCloudOf } from '../../config/presets.js';
import { ConfigError, problemLines } from '../../config/problems.js';
import type { NetOptions } from '../../verify/net.js';
import { parse } from '../args.js';
import { type Command, type ExitCode, type Io, UsageError } from '../command.js';
import { lookupClient, NETWORK_OPTIONS, NETWORK_USAGE, networkOptions } from '../network.js';

const USAGE = `Usage: mdm-discovery validate [PATH] [--online]

Checks a config file or directory as the server would at start-up: prints every error and
warning with file, line, JSON path and fix.
PATH defaults to $MDM_DISCOVERY_CONFIG (environment or .env), else the embedded demo config.

  --online                 also look up the Entra tenant of every exact domain of every tenant
                           that enrolls into Intune, and compare it with aadTenantId
${NETWORK_USAGE}

Exit codes: 0 valid (warnings allowed), 1 invalid (or an online check failed), 2 usage error.
`;

export const validateCommand: Command = {
  usage: USAGE,
  async run(args, { io, settings }) {
    const { values, positionals } = parse(args, {
      online: { type: 'boolean' },
      ...NETWORK_OPTIONS,
    });
    if (positionals.length > 1) throw new UsageError('give at most one path');
    const path = positionals[0] ?? settings.MDM_DISCOVERY_CONFIG ?? DEFAULT_CONFIG_PATH;
    const shown = path === DEFAULT_CONFIG_PATH ? 'the embedded demo config' : path;
    try {
      const config = await loadConfig(path, { usersFileRoots: settings.USERS_FILE_ROOTS });
      for (const line of problemLines(config.warnings)) io.stdout.write(`${line}\n`);
      const rules = config.tenants.reduce((n, t) => n + t.rules.length, 0);
      const warnings = config.warnings.length;
      io.stdout.write(
        `${shown}: valid, ${count(config.tenants.length, 'tenant')}, ${count(rules, 'rule')}, ${count(warnings, 'warning')}\n`,
      );
      return values.online ? online(config, await networkOptions(values), io) : 0;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      for (const line of problemLines(error.problems)) io.stderr.write(`${line}\n`);
      const errors = error.problems.filter((p) => p.severity === 'error').length;
      io.stderr.write(`${shown}: invalid, ${count(errors, 'error')}\n`);
      return 1;
    }
  },
};

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** Every (tenant, exact domain, Intune BaseURL) of a config: what --online looks up. */
function intunePairs(config: Config): { tenant: string; domain: string; baseUrl: string }[] {
  const pairs: { tenant: string; domain: string; baseUrl: string }[] = [];
  for (const tenant of config.tenants) {
    const baseUrls = new Set(
      [tenant.action, ...tenant.rules.map((r) => r.action)]
        .filter((a) => a.kind === 'enroll')
        .map((a) => a.server.baseUrl)
        .filter((url) => intuneCloudOf(new URL(url).hostname) !== undefined),
    );
    for (const domain of tenant.domains.filter((d) => !d.startsWith('*.'))) {
      for (const baseUrl of baseUrls) pairs.push({ tenant: tenant.name, domain, baseUrl });
    }
  }
  return pairs;
}

async function online(config: Config, options: NetOptions, io: Io): Promise<ExitCode> {
  const pairs = intunePairs(config);
  if (pairs.length === 0) {
    io.stdout.write('online: no tenant enrolls into Intune; nothing to look up\n');
    return 0;
  }
  const { tenantCheck } = await import('../../verify/entra.js');
  const client = await lookupClient(options);
  let failed = false;
  try {
    for (const { tenant, domain, baseUrl } of pairs) {
      const found = await tenantCheck(client, baseUrl, domain);
      if (found === undefined) continue;
      const mark = found.verdict === 'pass' ? '✓' : found.verdict === 'fail' ? '✗' : '!';
      io.stdout.write(`online: ${mark} ${tenant} ${domain}: ${found.detail}\n`);
      if (found.fix) io.stdout.write(`          fix: ${found.fix}\n`);
      failed ||= found.verdict === 'fail';
    }
  } finally {
    await client.agent.close();
  }
  return failed ? 1 : 0;
}
