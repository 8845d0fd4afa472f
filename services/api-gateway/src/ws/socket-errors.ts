import type { WebsocketPluginOptions } from "@fastify/websocket";
import type { Logger } from "@synapse/shared";

type ErrorHandler = NonNullable<WebsocketPluginOptions["errorHandler"]>;

/** Codes of errors a client causes: `ws` has closed the socket with the matching code already. */
function clientFault(error: Error): string | undefined {
  const code = (error as NodeJS.ErrnoException).code;
  // frame too big (1009), invalid UTF-8 (1007), any other protocol violation (1002)
  if (typeof code === "string" && code.startsWith("WS_ERR_")) return code;
  return undefined;
}

/** A peer that went away without a close handshake: nothing for the server to mend. */
const GONE = new Set(["ECONNRESET", "EPIPE", "ETIMEDOUT"]);

/**
 * Errors of established sockets. A client's mistake (an oversized frame, invalid UTF-8, a protocol
 * violation) is logged at info without a stack, and `ws` finishes the close it began with the code
 * the client sees; a dropped connection is logged at debug. Anything else is a server error.
 */
export function socketErrorHandler(logger: Logger): ErrorHandler {
  return (error, socket, request) => {
    const path = request.url.split("?")[0];
    const code = clientFault(error);
    if (code !== undefined) {
      logger.info({ code, path, detail: error.message }, "ws: client broke the protocol, socket closed");
      return;
    }
    const errno = (error as NodeJS.ErrnoException).code;
    if (errno !== undefined && GONE.has(errno)) logger.debug({ code: errno, path }, "ws: connection lost");
    else logger.error({ err: error, path }, "ws: socket error");
    socket.terminate();
  };
}
