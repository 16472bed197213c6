import { Writable } from 'node:stream';
import fc from 'fast-check';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/discovery/decide.js';
import { accessFields, accessLog } from '../../src/http/access-log.js';
import { createLogger, userFingerprinter } from '../../src/http/logger.js';
import { MODEL_FAMILIES } from '../../src/protocol.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split(/(?<=\n)/));
      done();
    },
  });
  return { lines, destination };
}

const fingerprint = userFingerprinter('test-key');
const outcomes = [
  'enroll',
  'reject',
  'not_found',
  'apple_business',
  'redirect',
  'unknown_host',
  'bad_query',
] as const;
const decisions = fc.record({
  outcome: fc.constantFrom(...outcomes),
  response: fc.constant(undefined as never),
  tenant: fc.option(fc.string({ unit: 'binary', maxLength: 30 }), { nil: undefined }),
  rule: fc.option(fc.string({ unit: 'binary', maxLength: 30 }), { nil: undefined }),
  query: fc.option(
    fc.record({
      userIdentifier: fc.option(
        fc.oneof(fc.emailAddress(), fc.string({ unit: 'binary', maxLength: 40 })),
        { nil: undefined },
      ),
      modelFamily: fc.option(fc.oneof(fc.constantFrom(...MODEL_FAMILIES), fc.string()), {
        nil: undefined,
      }),
    }),
    { nil: undefined },
  ),
}) as fc.Arbitrary<Decision>;

describe('the access log line', () => {
  it("is byte for byte what pino's child logger writes for the same fields, for any names and queries", () => {
    const { lines, destination } = capture();
    const logger = createLogger({ level: 'info', format: 'json', destination });
    const log = accessLog(logger, fingerprint);
    expect(log?.built).toBe(true);
    fc.assert(
      fc.property(
        decisions,
        fc.constantFrom('GET', 'HEAD'),
        fc.integer({ min: 200, max: 599 }),
        fc.double({ min: 0, max: 10_000, noNaN: true }),
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        (decision, method, status, ms, n) => {
          const id = `req-${n.toString(36)}`;
          lines.length = 0;
          log?.(id, decision, method, status, ms);
          logger
            .child({ reqId: id })
            .info(accessFields(decision, method, status, ms, fingerprint), 'discovery');
          expect(lines).toHaveLength(2);
          const [ours, pinos] = lines.map((line) => line.replace(/"time":\d+/, '"time":0'));
          expect(ours).toBe(pinos);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('follows a logger whose level is written as a label', () => {
    const { lines, destination } = capture();
    const logger = pino(
      { base: undefined, formatters: { level: (label) => ({ level: label }) } },
      destination,
    );
    const log = accessLog(logger, fingerprint);
    expect(log?.built).toBe(true);
    const decision: Decision = {
      outcome: 'unknown_host',
      response: undefined as never,
      tenant: undefined,
      rule: undefined,
      query: undefined,
    };
    log?.('req-1', decision, 'HEAD', 404, 0.5);
    logger
      .child({ reqId: 'req-1' })
      .info(accessFields(decision, 'HEAD', 404, 0.5, fingerprint), 'discovery');
    const [ours, pinos] = lines.map((line) => line.replace(/"time":\d+/, '"time":0'));
    expect(ours).toBe(pinos);
    expect(ours).toContain('"level":"info"');
  });

  it('falls back to the child logger for a logger with a mixin, with the same fields', () => {
    const { lines, destination } = capture();
    const logger = pino(
      {
        base: undefined,
        formatters: { level: (label) => ({ level: label }) },
        mixin: () => ({ pod: 'a' }),
      },
      destination,
    );
    const log = accessLog(logger, fingerprint);
    expect(log?.built).toBe(false);
    log?.(
      'req-7',
      {
        outcome: 'enroll',
        response: undefined as never,
        tenant: 'contoso',
        rule: undefined,
        query: { userIdentifier: 'joe@contoso.example', modelFamily: 'Mac' },
      },
      'GET',
      200,
      1.234,
    );
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      level: 'info',
      pod: 'a',
      reqId: 'req-7',
      tenant: 'contoso',
      modelFamily: 'Mac',
      userDomain: 'contoso.example',
      user: fingerprint('joe@contoso.example'),
      ms: 1.23,
      msg: 'discovery',
    });
  });

  it('is not made when info lines are not written', () => {
    expect(accessLog(createLogger({ level: 'warn', format: 'json' }), fingerprint)).toBeUndefined();
    expect(accessLog(undefined, fingerprint)).toBeUndefined();
  });
});
