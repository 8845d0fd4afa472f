import { MaxRetriesPerRequestError } from "ioredis/built/errors/index.js";
import { describe, expect, it } from "vitest";
import { isUnavailableError, markConnectionLost, ServiceUnavailableError } from "./outage.ts";

function coded(code: string): Error {
  return Object.assign(new Error("whatever the text"), { code });
}

describe("isUnavailableError", () => {
  it.each([
    ["a refused connection", coded("ECONNREFUSED")],
    ["a reset connection", coded("ECONNRESET")],
    ["SQLSTATE class 08", coded("08006")],
    ["admin_shutdown", coded("57P01")],
    ["cannot_connect_now", coded("57P03")],
    ["a failed pool checkout", new ServiceUnavailableError({ cause: new Error("timeout") })],
    ["ioredis giving up on a command", new MaxRetriesPerRequestError(20)],
    ["a dual-stack connect", new AggregateError([coded("ECONNREFUSED"), coded("ECONNREFUSED")])],
    ["a wrapped cause", new Error("step failed", { cause: coded("ECONNREFUSED") })],
  ])("%s is an outage", (_what, err) => {
    expect(isUnavailableError(err)).toBe(true);
  });

  it("a pg connection lost under a query is an outage, though its error has no code", () => {
    const cut = new Error("Connection terminated unexpectedly");
    expect(isUnavailableError(cut)).toBe(false);
    markConnectionLost(cut);
    expect(isUnavailableError(cut)).toBe(true);
  });

  it.each([
    ["a bug", new TypeError("x is undefined")],
    ["a unique violation", coded("23505")],
    ["a syntax error", coded("42601")],
    ["a message that mentions ECONNREFUSED", new Error("connect ECONNREFUSED 127.0.0.1:5432")],
    ["not an error", "ECONNREFUSED"],
  ])("%s is not", (_what, err) => {
    expect(isUnavailableError(err)).toBe(false);
  });
});
