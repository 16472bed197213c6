// The service's own fixed answers (not found, bad request, …), prepared once with the security headers.
import { STATUS_CODES } from 'node:http';
import type { FastifyReply } from 'fastify';
import { ERROR_DOCUMENTS, type PreparedResponse, prepare } from '../discovery/response.js';

export interface FixedResponses {
  readonly notFound: PreparedResponse;
  readonly badRequest: PreparedResponse;
  readonly methodNotAllowed: PreparedResponse;
  readonly internal: PreparedResponse;
  /** 429; the caller adds Retry-After. */
  readonly tooManyRequests: PreparedResponse;
  /** A generic body for any other 4xx status; never echoes the request. */
  clientError(status: number): PreparedResponse;
}

export function fixedResponses(headers: Readonly<Record<string, string>>): FixedResponses {
  const byStatus = new Map<number, PreparedResponse>();
  return {
    notFound: prepare(404, ERROR_DOCUMENTS.notFound, headers),
    badRequest: prepare(400, ERROR_DOCUMENTS.badRequest, headers),
    methodNotAllowed: prepare(405, ERROR_DOCUMENTS.methodNotAllowed, {
      ...headers,
      allow: 'GET, HEAD',
    }),
    internal: prepare(500, ERROR_DOCUMENTS.internal, headers),
    tooManyRequests: prepare(429, ERROR_DOCUMENTS.tooManyRequests, headers),
    clientError(status) {
      let response = byStatus.get(status);
      if (response === undefined) {
        const message = STATUS_CODES[status] ?? 'Client Error';
        response = prepare(status, { code: 'client_error', message }, headers);
        byStatus.set(status, response);
      }
      return response;
    },
  };
}

/** Writes a prepared answer. For HEAD, Node sends the headers (Content-Length included) and no body. */
export function sendPrepared(
  reply: FastifyReply,
  response: PreparedResponse,
  extraHeaders?: Readonly<Record<string, string>>,
): FastifyReply {
  reply.code(response.status).headers(response.headers);
  if (extraHeaders !== undefined) reply.headers(extraHeaders);
  // No payload at all for an empty body (a redirect), so Fastify adds no Content-Type.
  return response.bytes.length === 0 ? reply.send() : reply.send(response.bytes);
}
