import { describe, expect, it } from "vitest";
import { runTool, toolDefinitions } from "./registry.ts";

const env = { config: {}, signal: new AbortController().signal, now: () => new Date("2026-11-25T17:30:00Z") };

describe("runTool", () => {
  it("runs the calculator", async () => {
    expect(await runTool("calculator", { expression: "6*7" }, env)).toEqual({
      content: "42",
      is_error: false,
    });
  });

  it("returns bad arguments as an error result", async () => {
    const out = await runTool("calculator", { expr: "1" }, env);
    expect(out.is_error).toBe(true);
    expect(out.content).toContain("invalid arguments for calculator: expression");
  });

  it("returns an unknown tool as an error result", async () => {
    expect(await runTool("rm_rf", {}, env)).toEqual({ content: 'unknown tool "rm_rf"', is_error: true });
  });

  it("returns a calculator failure as an error result", async () => {
    expect(await runTool("calculator", { expression: "1/0" }, env)).toEqual({
      content: "calculator: division by zero",
      is_error: true,
    });
  });

  it("tells the time, in a zone when asked", async () => {
    const utc = await runTool("current_time", {}, env);
    expect(utc.is_error).toBe(false);
    expect(utc.content).toContain("2026-11-25T17:30:00.000Z");
    const paris = await runTool("current_time", { timezone: "Europe/Paris" }, env);
    expect(paris.content).toContain("18:30:00");
    const bad = await runTool("current_time", { timezone: "Mars/Olympus" }, env);
    expect(bad).toEqual({ content: 'current_time: unknown time zone "Mars/Olympus"', is_error: true });
  });

  it("disables web_search without a key, with a clear message", async () => {
    expect(await runTool("web_search", { query: "x" }, env)).toEqual({
      content: "web_search is disabled: TAVILY_API_KEY is not set",
      is_error: true,
    });
  });
});

describe("toolDefinitions", () => {
  it("gives portable OpenAI-format definitions of the agent's own tools only", () => {
    const defs = toolDefinitions(["calculator", "nope"]) as {
      function: { name: string; parameters: object };
    }[];
    expect(defs).toHaveLength(1);
    expect(defs[0]!.function.name).toBe("calculator");
    expect(defs[0]!.function.parameters).toEqual({
      type: "object",
      properties: { expression: { type: "string", description: expect.any(String) } },
      required: ["expression"],
    });
  });
});
