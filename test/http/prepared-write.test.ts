import { ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import {
  type AnswerWriter,
  answerWriter,
  checkPreparedWrites,
  compareWrites,
  publicWrite,
} from '../../src/http/prepared-write.js';
import { appWith, PRESETS, TENANT_ID, WELL_KNOWN } from '../helpers/app.js';

/** Raw bytes of the answers to `requests`, sent at once on one connection, Date lines blanked. */
async function exchange(preparedWrites: boolean, requests: string): Promise<string> {
  const app = await appWith(
    {
      tenants: [
        ...PRESETS.tenants,
        {
          name: 'rules',
          domains: ['rules.example'],
          enroll: { intune: { tenantId: TENANT_ID } },
          rules: [
            { name: 'no-tv', when: { modelFamilies: ['AppleTV'] }, reject: { message: 'Non, é.' } },
            {
              name: 'moved',
              when: { modelFamilies: ['Mac'] },
              redirect: { url: 'https://new.example/x' },
            },
          ],
        },
      ],
    },
    { writer: preparedWrites ? answerWriter({ ok: true }, 5000) : publicWrite },
  );
  onTestFinished(() => app.close());
  const url = new URL(await app.listen({ host: '127.0.0.1', port: 0 }));
  const socket = connect(Number(url.port), '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.write(requests);
  await new Promise((resolve) => socket.once('close', resolve));
  return Buffer.concat(chunks)
    .toString('latin1')
    .replace(/\r\nDate: [^\r]*\r\n/g, '\r\nDate: -\r\n');
}

const get = (path: string, host: string, extra = '') =>
  `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${extra}\r\n`;
const REQUESTS = [
  get(`${WELL_KNOWN}?user-identifier=joe@contoso.example&model-family=iPhone`, 'contoso.example'),
  `HEAD ${WELL_KNOWN}?user-identifier=joe@contoso.example HTTP/1.1\r\nHost: contoso.example\r\n\r\n`,
  get(`${WELL_KNOWN}?model-family=AppleTV`, 'rules.example'),
  get(`${WELL_KNOWN}?user-identifier=a@rules.example&model-family=Mac`, 'rules.example'),
  get(WELL_KNOWN, 'unknown.example'),
  get(`${WELL_KNOWN}?user-identifier=%zz`, 'contoso.example'),
  `${get(WELL_KNOWN, 'contoso.example', 'Content-Length: 2\r\n')}ab`,
  get(`${WELL_KNOWN}?model-family=Mac`, 'northwind.example', 'Connection: close\r\n'),
].join('');

describe('prepared answers (http/prepared-write.ts)', () => {
  it('pass the start-up check on this Node', async () => {
    expect(await checkPreparedWrites(5000)).toEqual({ ok: true });
  });

  it('are refused by the check when a writer puts other bytes on the wire or stalls the connection', async () => {
    const otherBytes: AnswerWriter = (res, response) => {
      res.writeHead(response.status, [...response.rawHeaders, 'x-extra', '1']);
      res.end(response.body);
    };
    expect(await compareWrites(5000, otherBytes)).toEqual({
      ok: false,
      reason: 'this Node writes the headers differently',
    });
    const stalls: AnswerWriter = (res) => res.writeHead(200, ['content-length', '5']);
    expect(await compareWrites(5000, stalls)).toEqual({
      ok: false,
      reason: 'the check failed: no third answer on the connection',
    });
    expect(answerWriter({ ok: false, reason: 'x' }, 5000)).toBe(publicWrite);
  });

  it('put the very bytes on the wire that the public way does, for every kind of answer', async () => {
    const prepared = await exchange(true, REQUESTS);
    const plain = await exchange(false, REQUESTS);
    expect(prepared.match(/HTTP\/1\.1 \d{3}/g)).toEqual([
      'HTTP/1.1 200',
      'HTTP/1.1 200',
      'HTTP/1.1 403',
      'HTTP/1.1 302',
      'HTTP/1.1 404',
      'HTTP/1.1 400',
      'HTTP/1.1 413',
      'HTTP/1.1 200',
    ]);
    expect(prepared).toBe(plain);
  });

  it('leave Node to build the headers only where a prepared set does not fit', async () => {
    const writeHead = vi.spyOn(ServerResponse.prototype, 'writeHead');
    onTestFinished(() => writeHead.mockRestore());
    const statuses = (calls: unknown[][]) => calls.map((call) => call[0]);
    await exchange(true, REQUESTS);
    // Fastify's 413, and the answer that closes the connection.
    expect(statuses(writeHead.mock.calls)).toEqual([413, 200]);
    writeHead.mockClear();
    await exchange(false, REQUESTS);
    expect(statuses(writeHead.mock.calls)).toEqual([200, 200, 403, 302, 404, 400, 413, 200]);
  });
});
