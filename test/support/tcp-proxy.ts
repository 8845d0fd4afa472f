import net from "node:net";

/**
 * A TCP proxy on a loopback port in front of a server, to take that server away from some clients
 * and give it back, as an outage would, without stopping the server other tests share.
 */
export interface TcpProxy {
  port: number;
  /** `url` with its port replaced by the proxy's. */
  urlFor(url: string): string;
  /**
   * Cuts every connection (a reset, or with `{ reset: false }` a plain close) and refuses new ones
   * (ECONNREFUSED) until `up()`.
   */
  down(opts?: { reset?: boolean }): Promise<void>;
  /** Accepts connections again, on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, host = "127.0.0.1"): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  await listen(0);
  const port = (server.address() as net.AddressInfo).port;
  const stop = (opts: { reset?: boolean } = {}) =>
    new Promise<void>((resolve) => {
      for (const s of sockets) opts.reset === false ? s.destroy() : s.resetAndDestroy();
      if (!server.listening) return resolve();
      server.close(() => resolve());
    });
  return {
    port,
    urlFor(url) {
      const u = new URL(url);
      u.port = String(port);
      return u.toString();
    },
    down: stop,
    up: () => listen(port),
    close: () => stop(),
  };
}
