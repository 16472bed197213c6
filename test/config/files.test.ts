import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configJsonSchema } from '../../src/config/json-schema.js';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../../src/config/load.js';

const configDir = new URL('../../config/', import.meta.url).pathname;
const shipped = [
  'default.json',
  ...readdirSync(join(configDir, 'examples'))
    .filter((name) => name.endsWith('.json'))
    .map((name) => join('examples', name)),
];

describe('the config files we ship', () => {
  it('include a worked example for each preset, a multi-tenant one and the README routing ones', () => {
    expect(shipped.sort()).toEqual(
      [
        'default.json',
        'examples/fleet.json',
        'examples/generic.json',
        'examples/intune-china.json',
        'examples/intune-commercial.json',
        'examples/intune-usgov.json',
        'examples/jamf.json',
        'examples/multi-tenant.json',
        'examples/routing-macs-device-enrollment.json',
        'examples/routing-migration.json',
        'examples/routing-refuse-family.json',
      ].sort(),
    );
  });

  it.each(shipped)('%s is valid with no warning', async (name) => {
    const config = await loadConfig(join(configDir, name));
    expect(config.tenants.length).toBeGreaterThan(0);
    expect(config.warnings).toEqual([]);
  });

  it('uses the embedded default when nothing else is configured', () => {
    expect(DEFAULT_CONFIG_PATH).toBe(join(configDir, 'default.json'));
  });

  it('keeps config/schema.json in step with the zod schema (npm run schema rewrites it)', () => {
    expect(readFileSync(join(configDir, 'schema.json'), 'utf8')).toBe(configJsonSchema());
  });

  it('publishes a schema that refuses unknown keys, for editors', () => {
    const schema = JSON.parse(configJsonSchema()) as {
      additionalProperties: boolean;
      properties: { tenants: { items: { additionalProperties: boolean; required: string[] } } };
    };
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.tenants.items.additionalProperties).toBe(false);
    expect(schema.properties.tenants.items.required).toEqual(['name', 'domains']);
  });
});
