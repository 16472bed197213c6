// One HTTP exchange through undici, read whole; errors described by their code.
import { type Agent, request } from 'undici';
import { VERSION } from '../version.js';
import type { Answer } from './evaluate.js';

export async function fetchAnswer(
  agent: Agent,
  url: URL,
  method: 'GET' | 'HEAD' | 'POST',
  body?: string,
): Promise<Answer> {
  const res = await request(url, {
    method,
    dispatcher: agent,
    headers: {
      'user-agent': `mdm-discovery-verify/${VERSION}`,
      ...(body === undefined ? {} : { 'content-type': 'application/xml' }),
    },
    ...(body === undefined ? {} : { body }),
  });
  const bytes = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, body: bytes };
}

export function describeError(error: unknown): string {
  const e = error as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  return e.cause?.code ?? e.code ?? e.message;
}
