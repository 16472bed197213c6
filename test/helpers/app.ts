// Builds the real app from a literal config, the way server.ts does, without listening.
import type { FastifyInstance } from 'fastify';
import { onTestFinished } from 'vitest';
import { type Config, parseConfig } from '../../src/config/load.js';
import type { ConfigFileInput } from '../../src/config/schema.js';
import { buildApp } from '../../src/http/app.js';
import { WELL_KNOWN_PATH } from '../../src/protocol.js';

export const WELL_KNOWN = WELL_KNOWN_PATH;

export const TENANT_ID = '6f0c8a5e-6f2b-4c61-9a0e-2b1f5c3d4e7a';

/** One tenant per preset, plus wildcards, used across the HTTP tests. */
export const PRESETS: ConfigFileInput = {
  tenants: [
    {
      name: 'contoso',
      domains: ['contoso.example', '*.contoso.example'],
      enroll: { intune: { cloud: 'commercial', tenantId: TENANT_ID } },
    },
    {
      name: 'gov',
      domains: ['agency.example'],
      enroll: { intune: { cloud: 'usgov', tenantId: TENANT_ID } },
    },
    {
      name: 'china',
      domains: ['contoso-cn.example'],
      enroll: { intune: { cloud: 'china', tenantId: TENANT_ID } },
    },
    {
      name: 'fabrikam',
      domains: ['fabrikam.example'],
      enroll: { jamf: { url: 'https://fabrikam.jamfcloud.com', enrollment: 'user' } },
    },
    {
      name: 'fabrikam-corp',
      domains: ['corp.fabrikam.example'],
      enroll: { jamf: { url: 'https://fabrikam.jamfcloud.com/', enrollment: 'device' } },
    },
    {
      name: 'tailspin',
      domains: ['tailspin.example'],
      enroll: { fleet: { url: 'https://fleet.tailspin.example' } },
    },
    {
      name: 'northwind',
      domains: ['northwind.example', 'bücher.example'],
      enroll: { version: 'mdm-adde', baseUrl: 'https://mdm.northwind.example/enroll?org=7' },
    },
    {
      name: 'research',
      domains: ['*.research.contoso.example'],
      enroll: { version: 'mdm-byod', baseUrl: 'https://mdm.research.example/byod' },
    },
  ],
};

export function configOf(input: ConfigFileInput | object, file = 'test.json'): Config {
  return parseConfig([{ file, text: JSON.stringify(input, null, 2) }]);
}

export async function appWith(
  input: ConfigFileInput | object = PRESETS,
  options: Omit<Parameters<typeof buildApp>[0], 'config'> = {},
): Promise<FastifyInstance> {
  const app = await buildApp({ config: configOf(input), ...options });
  await app.ready();
  return app;
}

/** appWith inside a test: the app is closed when the test ends, whether it passed or failed. */
export async function testApp(...args: Parameters<typeof appWith>): Promise<FastifyInstance> {
  const app = await appWith(...args);
  onTestFinished(() => app.close());
  return app;
}

export function discoveryUrl(user?: string, family?: string): string {
  const query = [
    user === undefined ? undefined : `user-identifier=${user}`,
    family === undefined ? undefined : `model-family=${family}`,
  ].filter(Boolean);
  return query.length === 0 ? WELL_KNOWN : `${WELL_KNOWN}?${query.join('&')}`;
}
