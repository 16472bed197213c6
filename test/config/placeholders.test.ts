// The placeholder pre-check never hides one: the quick answer is the full search's, whatever the value.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findPlaceholder, searchPlaceholder } from '../../src/config/placeholders.js';

const PIECES = [
  'YourAADTenantID',
  '<tenant-guid>',
  '{{tenantId}}',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: an unexpanded template is the placeholder
  '${TENANT_ID}',
  'TODO',
  'REPLACE_ME',
  'changeme',
  'undefined',
  'null',
  'aadTenantId',
  'tenantid',
  'your-tenant-id',
  'xxx',
  'https://',
  '/',
  '?',
  '&',
  '=',
  'contoso.com',
  '6f0c8a5e-6f2b-4c61-9a0e-2b1f5c3d4e7a',
];

describe('findPlaceholder', () => {
  it('answers as the full search does, for values built from placeholders and URL parts', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constantFrom(...PIECES), fc.string()), { maxLength: 8 }),
        (parts) => {
          const value = parts.join('');
          expect(findPlaceholder(value)).toBe(searchPlaceholder(value));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('still finds each placeholder, and passes a real value', () => {
    for (const placeholder of PIECES.slice(0, 13)) {
      expect(findPlaceholder(`https://mdm.example/${placeholder}`)).toBeDefined();
    }
    expect(
      findPlaceholder(
        'https://manage.microsoft.com/EnrollmentServer/PostReportDeviceInfoForUEV2?aadTenantId=6f0c8a5e-6f2b-4c61-9a0e-2b1f5c3d4e7a',
      ),
    ).toBeUndefined();
  });
});
