// `mdm-discovery verify`: what an Apple device would get from a live domain, and why it would fail.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { DEFAULT_FAMILIES } from '../../verify/checks.js';
import type { Report, VerifyOptions } from '../../verify/verify.js';
import { parse } from '../args.js';
import { type Command, UsageError } from '../command.js';

const USAGE = `Usage: mdm-discovery verify <domain | url> [options]

Asks the way an Apple device asks and reports every check as pass, warn or fail, with a fix.

Options:
  --user ID                user-identifier to send (default: probe@<domain>)
  --model-family FAMILY    repeatable (default: ${DEFAULT_FAMILIES.join(', ')})
  --ca FILE                also trust this CA certificate (PEM), for private PKI
  --resolve HOST:PORT:ADDR connect to ADDR for HOST:PORT, like curl (repeatable; HOST may be *)
  --timeout SECONDS        per connection and request, body included (default: 10)
  --deadline SECONDS       for the whole run (default: 60)
  --allow-private          let redirects and the BaseURL probe reach loopback, private and
                           link-local addresses (a --resolve entry allows its own host)
  --json                   print the report as JSON (shape in the README)
  --no-probe-base-url      do not POST to the BaseURL (default: probe it)

Exit codes: 0 nothing failed (warnings allowed), 1 a check failed, 2 usage error.
`;

const seconds = (name: string, fallback: number) =>
  z.coerce
    .number({ error: `${name} must be a number of seconds` })
    .positive({ error: `${name} must be a number of seconds` })
    .default(fallback);

const optionsSchema = z.object({
  timeout: seconds('--timeout', 10),
  deadline: seconds('--deadline', 60),
});

export const verifyCommand: Command = {
  usage: USAGE,
  async run(args, { io, color }) {
    const { values, positionals } = parse(args, {
      user: { type: 'string' },
      'model-family': { type: 'string', multiple: true },
      ca: { type: 'string' },
      resolve: { type: 'string', multiple: true },
      timeout: { type: 'string' },
      deadline: { type: 'string' },
      'allow-private': { type: 'boolean' },
      json: { type: 'boolean' },
      'probe-base-url': { type: 'boolean' },
      'no-probe-base-url': { type: 'boolean' },
    });
    if (positionals.length !== 1) throw new UsageError('give exactly one domain or URL');
    const target = positionals[0] as string;
    const times = optionsSchema.safeParse({ timeout: values.timeout, deadline: values.deadline });
    if (!times.success) throw new UsageError(times.error.issues[0]?.message ?? 'bad --timeout');
    // Loaded here, not at start-up: undici and the checks are only for this command.
    const { parseResolve } = await import('../../verify/net.js');
    const resolve = (values.resolve ?? []).map((text) => {
      const parsed = parseResolve(text);
      if (!parsed) throw new UsageError(`--resolve "${text}" is not HOST:PORT:ADDRESS`);
      return parsed;
    });
    let ca: string | undefined;
    if (values.ca !== undefined) {
      ca = await readFile(values.ca, 'utf8').catch(() => {
        throw new UsageError(`--ca ${values.ca}: cannot be read`);
      });
    }
    const options: VerifyOptions = {
      user: values.user,
      families: values['model-family'] ?? [...DEFAULT_FAMILIES],
      ca,
      resolve,
      timeoutMs: times.data.timeout * 1000,
      deadlineMs: times.data.deadline * 1000,
      allowPrivate: values['allow-private'] === true,
      probeBaseUrl: values['no-probe-base-url'] !== true,
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
