// `mdm-discovery verify`: what an Apple device would get from a live domain, and why it would fail.
import { DEFAULT_FAMILIES } from '../../verify/checks.js';
import type { Report, VerifyOptions } from '../../verify/verify.js';
import { parse } from '../args.js';
import { type Command, UsageError } from '../command.js';
import { NETWORK_OPTIONS, NETWORK_USAGE, networkOptions, seconds } from '../network.js';

const USAGE = `Usage: mdm-discovery verify <domain | url> [options]

Asks the way an Apple device asks and reports every check as pass, warn or fail, with a fix.

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

Exit codes: 0 nothing failed (warnings allowed), 1 a check failed, 2 usage error.
`;

export const verifyCommand: Command = {
  usage: USAGE,
  async run(args, { io, color }) {
    const { values, positionals } = parse(args, {
      user: { type: 'string' },
      'model-family': { type: 'string', multiple: true },
      ...NETWORK_OPTIONS,
      deadline: { type: 'string' },
      'allow-private': { type: 'boolean' },
      json: { type: 'boolean' },
      'probe-base-url': { type: 'boolean' },
      'no-probe-base-url': { type: 'boolean' },
      'no-tenant-check': { type: 'boolean' },
    });
    if (positionals.length !== 1) throw new UsageError('give exactly one domain or URL');
    const target = positionals[0] as string;
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
    const { VerifyTargetError, verify } = await import('../../verify/verify.js');
    const { renderReport } = await import('../../verify/render.js');
    let report: Report;
    try {
      report = await verify(target, options);
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
