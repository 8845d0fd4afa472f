import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { FastifyInstance } from "fastify";

/** What Node's HTTP parser reports for a request too large to parse (request line or headers). */
const TOO_LARGE = new Set(["HPE_HEADER_OVERFLOW", "HPE_URI_TOO_LONG"]);

/**
 * Answers a request that never reached routing (a non-HTTP request line, a negative
 * `Content-Length`, chunked plus `Content-Length`, headers over Node's limit) with the same
 * `{detail, code}` body as every other error, instead of Fastify's own shape. Logged at debug:
 * it is the client's fault, and scanners send these all day.
 */
export function clientErrorHandler(this: FastifyInstance, err: NodeJS.ErrnoException, socket: Socket): void {
  this.log.debug({ code: err.code }, "malformed HTTP request");
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const tooLarge = err.code !== undefined && TOO_LARGE.has(err.code);
  const status = tooLarge ? 431 : 400;
  const body = JSON.stringify(
    tooLarge
      ? { detail: "request line or headers too large", code: "request_too_large" }
      : { detail: "malformed HTTP request", code: "bad_request" },
  );
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      "Connection: close\r\n" +
      "Content-Type: application/json; charset=utf-8\r\n" +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
