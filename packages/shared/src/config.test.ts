import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.ts";

const noDotenv = "/nonexistent-dir-for-dotenv";

describe("loadConfig", () => {
  it("applies the documented defaults", () => {
    const c = loadConfig({ NODE_ENV: "test", SECRET_KEY: "x".repeat(32) }, noDotenv);
    expect(c.PORT).toBe(8000);
    expect(c.ACCESS_TOKEN_EXPIRE_MINUTES).toBe(1440);
    expect(c.MAX_STEPS_PER_TURN).toBe(20);
    expect(c.WORKER_CONCURRENCY).toBe(8);
    expect(c.LOG_LEVEL).toBe("info");
    expect(c.ALGORITHM).toBe("HS256");
    expect(c.QUEUE_KEEP_COMPLETED).toBe(1000);
    expect(c.QUEUE_KEEP_FAILED).toBe(5000);
  });

  it.each([
    [{ PORT: "abc" }, "PORT"],
    [{ DATABASE_URL: "not a url" }, "DATABASE_URL"],
    [{ REDIS_URL: "http://x" }, "REDIS_URL"],
    [{ MAX_STEPS_PER_TURN: "0" }, "MAX_STEPS_PER_TURN"],
    [{ CORS_ORIGINS: "*" }, "CORS_ORIGINS"],
    [{ QUEUE_KEEP_COMPLETED: "99" }, "QUEUE_KEEP_COMPLETED"],
    [{ QUEUE_KEEP_COMPLETED: "all" }, "QUEUE_KEEP_COMPLETED"],
    [{ QUEUE_KEEP_FAILED: "0" }, "QUEUE_KEEP_FAILED"],
  ])("rejects %o naming %s", (env, name) => {
    expect(() => loadConfig({ NODE_ENV: "test", SECRET_KEY: "x".repeat(32), ...env }, noDotenv)).toThrowError(
      new RegExp(`^invalid setting ${name}:`),
    );
  });

  it("requires a 32-byte SECRET_KEY in production", () => {
    expect(() => loadConfig({ NODE_ENV: "production" }, noDotenv)).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: "production", SECRET_KEY: "short" }, noDotenv)).toThrow(/SECRET_KEY/);
    expect(
      loadConfig({ NODE_ENV: "production", SECRET_KEY: "k".repeat(32) }, noDotenv).SECRET_KEY,
    ).toHaveLength(32);
  });

  it("reads LangSmith tracing as LangChain does (LANGCHAIN_TRACING_V2 the older name)", () => {
    const load = (env: Record<string, string>) =>
      loadConfig({ NODE_ENV: "test", SECRET_KEY: "x".repeat(32), ...env }, noDotenv).LANGSMITH_TRACING;
    expect(load({})).toBe(false);
    expect(load({ LANGCHAIN_TRACING_V2: "true" })).toBe(true);
    expect(load({ LANGSMITH_TRACING: "false", LANGCHAIN_TRACING_V2: "true" })).toBe(false);
    expect(() => load({ LANGSMITH_TRACING: "yes" })).toThrowError(/^invalid setting LANGSMITH_TRACING: /);
  });

  it("reads how many finished jobs each queue keeps", () => {
    const c = loadConfig(
      { NODE_ENV: "test", SECRET_KEY: "x".repeat(32), QUEUE_KEEP_COMPLETED: "250", QUEUE_KEEP_FAILED: "100" },
      noDotenv,
    );
    expect([c.QUEUE_KEEP_COMPLETED, c.QUEUE_KEEP_FAILED]).toEqual([250, 100]);
  });

  it("takes ANTHROPIC_API_KEY when CLAUDE_API_KEY is unset", () => {
    const c = loadConfig({ NODE_ENV: "test", SECRET_KEY: "x".repeat(32), ANTHROPIC_API_KEY: "a" }, noDotenv);
    expect(c.CLAUDE_API_KEY).toBe("a");
  });

  it("parses named OpenAI-compatible endpoints", () => {
    const c = loadConfig(
      { NODE_ENV: "test", SECRET_KEY: "x".repeat(32), OPENAI_ENDPOINTS: "ollama=http://127.0.0.1:11434/v1" },
      noDotenv,
    );
    expect(c.OPENAI_ENDPOINTS).toEqual({ ollama: "http://127.0.0.1:11434/v1" });
    expect(() =>
      loadConfig({ NODE_ENV: "test", SECRET_KEY: "x".repeat(32), OPENAI_ENDPOINTS: "bad" }, noDotenv),
    ).toThrow(/OPENAI_ENDPOINTS/);
  });

  it("reads TRUST_PROXY as a boolean, a hop count or a list", () => {
    const base = { NODE_ENV: "test", SECRET_KEY: "x".repeat(32) };
    expect(loadConfig(base, noDotenv).TRUST_PROXY).toBe(false);
    expect(loadConfig({ ...base, TRUST_PROXY: "true" }, noDotenv).TRUST_PROXY).toBe(true);
    expect(loadConfig({ ...base, TRUST_PROXY: "2" }, noDotenv).TRUST_PROXY).toBe(2);
    expect(loadConfig({ ...base, TRUST_PROXY: "10.0.0.1,10.0.0.2" }, noDotenv).TRUST_PROXY).toBe(
      "10.0.0.1,10.0.0.2",
    );
  });
});
