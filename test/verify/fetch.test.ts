// One exchange of verify's: whichever timer ends a silent server's exchange, the user reads the same words.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { describe, expect, it, onTestFinished } from 'vitest';
import { describeError, fetchAnswer } from '../../src/verify/fetch.js';

describe('a server that never answers', () => {
  it.each([
    ['the exchange timer', 10_000],
    // undici's timers tick about once a second: 1 s fires well before the exchange's 3 s.
    ["the agent's own headers timer", 1000],
  ])('is described by --timeout when %s fires first', async (_which, headersTimeout) => {
    const server = createServer(() => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => {
      server.closeAllConnections();
      server.close();
    });
    const agent = new Agent({ headersTimeout, bodyTimeout: headersTimeout });
    onTestFinished(() => agent.destroy());
    const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    const failure = fetchAnswer(
      { agent, timeoutMs: 3000, deadline: new AbortController().signal },
      url,
      'GET',
    );
    await expect(failure.catch(describeError)).resolves.toBe(
      'no complete answer within 3 s (--timeout)',
    );
  });
});
