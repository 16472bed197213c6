// `mdm-discovery verify`: what an Apple device would get from a live domain, and why it would fail.
import { z } from 'zod';
import type { Env } from '../../config/env.js';
import { loadConfig } from '../../config/load.js';
import { DEFAULT_FAMILIES } from '../../verify/checks.js';
import type { Report, VerifyOptions } from '../../verify/verify.js';
import { parse } from '../args.js';
import { type Command, UsageError } from '../command.js';
import { NETWORK_OPTIONS, NETWORK_USAGE, networkOptions, seconds } from '../network.js';

const USAGE = `Usage: mdm-discovery verify <domain | url> [options]
       mdm-discovery verify --config PATH [--domain D …] [options]

Asks the way an Apple device asks and reports every check as pass, warn or fail, with a fix.
With --config (or MDM_DISCOVERY_CONFIG and no domain), asks every exact domain of the config and
compares each public answer with what the config itself answers.

Options:
  --user ID                user-identifier to send (default: probe@<domain>)
  --model-family FAMILY    repeatable (default: ${DEFAULT_FAMILIES.join(', ')})
${NETWORK_USAGE}
  --deadline SECONDS       for the whole run (default: 60)
  --allow-private          let redirects and the BaseURL probe reach loopback, private and
                           link-local addresses (a --resolve entry allows its own host)
  --json                   print the report as JSON (shape in docs/verify.md)
  --no-probe-base-url      do not POST to the BaseURL (default: probe it)
  --no-tenant-check        do not look up the Entra tenant of an Intune BaseURL's domain
  --config PATH            verify every exact domain of this config against its answers
  --domain DOMAIN          with --config: only this domain (repeatable)
  --concurrency N          with --config: domains asked at once (default: 4)

Exit codes: 0 nothing failed (warnings allowed), 1 a check failed, 2 usage error.
`;

const CONCURRENCY = z.coerce.number().int().min(1).max(64).default(4);

/** A domain or URL, or (without one) a config: exactly one of them, with the options that fit it. */
function whatToVerify(
  positionals: readonly string[],
  values: {
    config?: string | undefined;
    domain?: string[] | undefined;
    concurrency?: string | undefined;
  },
  settings: Env,
): { target: string | undefined; configPath: string | undefined } {
  if (positionals.length > 1) throw new UsageError('give exactly one domain or URL');
  const target = positionals[0];
  const configPath =
    target === undefined ? (values.config ?? settings.MDM_DISCOVERY_CONFIG) : undefined;
  if (target !== undefined && values.config !== undefined) {
    throw new UsageError('give a domain or --config, not both');
  }
  if (target === undefined && configPath === undefined) {
    throw new UsageError('give a domain or URL, or --config PATH');
  }
  if (
    configPath === undefined &&
    (values.domain !== undefined || values.concurrency !== undefined)
  ) {
    throw new UsageError('--domain and --concurrency go with --config');
  }
  return { target, configPath };
}

export const verifyCommand: Command = {
  usage: USAGE,
  async run(args, { io, color, settings }) {
    const { values, positionals } = parse(args, {
      user: { type: 'string' },
      'model-family': { type: 'string', multiple: true },
      ...NETWORK_OPTIONS,
      deadline: { type: 'string' },
      'allow-private': { type: 'boolean' },
      json: { type: 'boolean' },
      'no-probe-base-url': { type: 'boolean' },
      'no-tenant-check': { type: 'boolean' },
      config: { type: 'string' },
      domain: { type: 'string', multiple: true },
      concurrency: { type: 'string' },
    });
    const { target, configPath } = whatToVerify(positionals, values, settings);
    const deadline = seconds('--deadline', 60).safeParse(values.deadline);
    if (!deadline.success)
      throw new UsageError(deadline.error.issues[0]?.message ?? 'bad --deadline');
    const options: VerifyOptions = {
      ...(await networkOptions(values)),
      user: values.user,
      families: values['model-family'] ?? [...DEFAULT_FAMILIES],
      deadlineMs: deadline.data * 1000,
      allowPrivate: values['allow-private'] === true,
      probeBaseUrl: values['no-probe-base-url'] !== true,
      tenantCheck: values['no-tenant-check'] !== true,
    };
    if (configPath !== undefined) {
      const concurrency = CONCURRENCY.safeParse(values.concurrency);
      if (!concurrency.success)
        throw new UsageError('--concurrency must be a whole number from 1 to 64');
      const config = await loadConfig(configPath, { usersFileRoots: settings.USERS_FILE_ROOTS });
      const { verifyConfig } = await import('../../verify/against-config.js');
      const { renderConfigReport } = await import('../../verify/render.js');
      const result = await verifyConfig(config, {
        ...options,
        families: options.families,
        domains: (values.domain ?? []).map((d) => d.toLowerCase()),
        concurrency: concurrency.data,
      });
      io.stdout.write(
        values.json ? `${JSON.stringify(result, null, 2)}\n` : renderConfigReport(result, color),
      );
      return result.verdict === 'fail' ? 1 : 0;
    }
    const { VerifyTargetError, verify } = await import('../../verify/verify.js');
    const { renderReport } = await import('../../verify/render.js');
    let report: Report;
    try {
      report = await verify(target as string, options);
    } catch (error) {
      if (error instanceof VerifyTargetError) throw new UsageError(error.message);
      throw error;
    }
    io.stdout.write(
      values.json ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report, color),
    );
    return report.verdict === 'fail' ? 1 : 0;
  },
};
