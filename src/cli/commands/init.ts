// `mdm-discovery init`: writes a starter config from flags, validated before it is written.
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../config/load.js';
import { type IntuneCloud, SIGN_IN_HOSTS } from '../../config/presets.js';
import { ConfigError, problemLines } from '../../config/problems.js';
import type { NetOptions } from '../../verify/net.js';
import { parse } from '../args.js';
import { type Command, UsageError } from '../command.js';
import { lookupClient, NETWORK_OPTIONS, NETWORK_USAGE, networkOptions } from '../network.js';

const USAGE = `Usage: mdm-discovery init --domain DOMAIN [--domain …] <one MDM> [--name NAME] [--output PATH]

Writes a starter config, validated first; never overwrites a file.

One MDM:
  --intune-tenant GUID [--cloud commercial|usgov|china]   Microsoft Intune (default cloud: commercial)
  --intune-domain DOMAIN [--cloud …]                      Microsoft Intune, the tenant ID looked up
                                                          from DOMAIN's Entra sign-in metadata
  --jamf URL [--enrollment user|device]                   Jamf Pro (default: user)
  --fleet URL                                             Fleet
  --base-url URL --version mdm-byod|mdm-adde              any other MDM

Options:
  --name NAME      tenant name (default: the first label of the first domain)
  --output PATH    where to write (default: mdm-discovery.json)
For --intune-domain (the lookup goes to login.microsoftonline.com, .us or .cn):
${NETWORK_USAGE}

--domain defaults to the --intune-domain.
Exit codes: 0 written, 1 the result would be invalid, the file exists, or the tenant lookup
failed, 2 usage error.
`;

const SCHEMA_PATH = fileURLToPath(new URL('../../../config/schema.json', import.meta.url));

export const initCommand: Command = {
  usage: USAGE,
  async run(args, { io }) {
    const { values, positionals } = parse(args, {
      domain: { type: 'string', multiple: true },
      name: { type: 'string' },
      'intune-tenant': { type: 'string' },
      'intune-domain': { type: 'string' },
      cloud: { type: 'string' },
      jamf: { type: 'string' },
      enrollment: { type: 'string' },
      fleet: { type: 'string' },
      'base-url': { type: 'string' },
      version: { type: 'string' },
      output: { type: 'string' },
      ...NETWORK_OPTIONS,
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const lookupDomain = values['intune-domain'];
    let tenantId = values['intune-tenant'];
    if (lookupDomain !== undefined) {
      if (tenantId !== undefined) {
        throw new UsageError('give --intune-tenant or --intune-domain, not both');
      }
      const cloud = (values.cloud ?? 'commercial') as IntuneCloud;
      if (!(cloud in SIGN_IN_HOSTS)) throw new UsageError('--cloud is commercial, usgov or china');
      const found = await lookup(await networkOptions(values), cloud, lookupDomain);
      if (found.kind !== 'found') {
        io.stderr.write(
          `mdm-discovery init: ${
            found.kind === 'unknown-domain'
              ? `${lookupDomain} is not a verified domain of any Entra tenant (AADSTS90002); check the domain, or give --intune-tenant`
              : `the tenant of ${lookupDomain} could not be looked up at ${SIGN_IN_HOSTS[cloud]} (${found.reason}); give --intune-tenant`
          }\n`,
        );
        return 1;
      }
      tenantId = found.tenantId;
      io.stdout.write(
        `${lookupDomain} belongs to Entra tenant ${tenantId} (${SIGN_IN_HOSTS[cloud]})\n`,
      );
    }
    const { document, output } = starter({
      ...values,
      'intune-tenant': tenantId,
      domain: values.domain ?? (lookupDomain === undefined ? [] : [lookupDomain]),
    });
    const text = `${JSON.stringify(document, null, 2)}\n`;
    try {
      // Warnings (a Version the BaseURL's vendor does not serve, …) are said; the file is written.
      const { warnings } = parseConfig([{ file: output, text }]);
      for (const line of problemLines(warnings)) io.stderr.write(`${line}\n`);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      for (const line of problemLines(error.problems)) io.stderr.write(`${line}\n`);
      io.stderr.write(`mdm-discovery init: not written: the config would be invalid\n`);
      return 1;
    }
    try {
      // "wx": never overwrite an existing config.
      await writeFile(output, text, { flag: 'wx' });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      io.stderr.write(
        `mdm-discovery init: ${output} ${code === 'EEXIST' ? 'exists; not overwritten (choose --output or remove it)' : `cannot be written (${code})`}\n`,
      );
      return 1;
    }
    io.stdout.write(
      `wrote ${output}\nnext: mdm-discovery validate ${output}\n      MDM_DISCOVERY_CONFIG=${output} mdm-discovery serve\n`,
    );
    return 0;
  },
};

/** The starter config the flags describe, and where to write it; UsageError for bad flags. */
function starter(values: {
  domain?: string[] | undefined;
  name?: string | undefined;
  'intune-tenant'?: string | undefined;
  cloud?: string | undefined;
  jamf?: string | undefined;
  enrollment?: string | undefined;
  fleet?: string | undefined;
  'base-url'?: string | undefined;
  version?: string | undefined;
  output?: string | undefined;
}): { document: object; output: string } {
  const domains = values.domain ?? [];
  if (domains.length === 0) throw new UsageError('--domain is required');
  const chosen = [
    values['intune-tenant'] && 'intune',
    values.jamf && 'jamf',
    values.fleet && 'fleet',
    (values['base-url'] || values.version) && 'base-url',
  ].filter(Boolean);
  if (chosen.length !== 1) {
    throw new UsageError(
      'give exactly one of --intune-tenant (or --intune-domain), --jamf, --fleet, or --base-url with --version',
    );
  }
  if (values.cloud && !values['intune-tenant'])
    throw new UsageError('--cloud goes with --intune-tenant');
  if (values.enrollment && !values.jamf) throw new UsageError('--enrollment goes with --jamf');
  const enroll = values['intune-tenant']
    ? { intune: { cloud: values.cloud ?? 'commercial', tenantId: values['intune-tenant'] } }
    : values.jamf
      ? { jamf: { url: values.jamf, enrollment: values.enrollment ?? 'user' } }
      : values.fleet
        ? { fleet: { url: values.fleet } }
        : { version: values.version, baseUrl: values['base-url'] };
  const name = values.name ?? (domains[0] ?? '').replace(/^\*\./, '').split('.')[0] ?? 'tenant';
  const document = {
    // The installed package's schema, so editors autocomplete the new file.
    $schema: SCHEMA_PATH,
    tenants: [{ name, domains, enroll }],
  };
  return { document, output: values.output ?? 'mdm-discovery.json' };
}

async function lookup(options: NetOptions, cloud: IntuneCloud, domain: string) {
  const { lookupTenant } = await import('../../verify/entra.js');
  const client = await lookupClient(options);
  try {
    return await lookupTenant(client, cloud, domain);
  } finally {
    await client.agent.close();
  }
}
