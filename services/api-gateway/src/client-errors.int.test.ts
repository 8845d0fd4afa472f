import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestGateway, testGateway } from "../test/helpers.ts";

let gw: TestGateway;
let port: number;

beforeAll(async () => {
  gw = await testGateway();
  await gw.app.listen({ host: "127.0.0.1", port: 0 });
  const address = gw.app.server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  port = address.port;
});
afterAll(() => gw.close());

/** Writes `raw` on a fresh TCP connection and returns everything the server sends before closing. */
function rawRequest(raw: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    socket.on("data", (c) => chunks.push(c));
    socket.on("error", reject);
    socket.on("close", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      resolve({ status, body: text.slice(text.indexOf("\r\n\r\n") + 4) });
    });
    socket.end(raw);
  });
}

describe("malformed HTTP gets {detail, code}", () => {
  it.each([
    ["a non-HTTP request line", "HELLO THERE\r\n\r\n", 400],
    ["a negative Content-Length", "POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400],
    [
      "chunked plus Content-Length",
      "POST /auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
      400,
    ],
    ["a 70 KB URL", `GET /groups/${"a".repeat(70_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 431],
  ])("%s", async (_name, raw, status) => {
    const res = await rawRequest(raw);
    expect(res.status).toBe(status);
    const body = JSON.parse(res.body) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["code", "detail"]);
    expect(typeof body.detail).toBe("string");
    expect(typeof body.code).toBe("string");
  });

  it("still serves well-formed requests on the same server", async () => {
    const res = await rawRequest("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expect(res.status).toBe(200);
    expect(res.body).toContain('"status":"ok"');
  });
});
