import { describe, expect, it } from "vitest";
import { hasTaskComplete, parseMentions, stripMarkers } from "./mentions.ts";

const agents = [
  { id: "1", alias: "Orchestrator" },
  { id: "2", alias: "Alice" },
  { id: "3", alias: "Data Bot" },
  { id: "4", alias: "web.search-2" },
  { id: "5", alias: "Ali" },
];
const ids = (text: string) => parseMentions(text, agents).map((a) => a.alias);

describe("parseMentions", () => {
  it("finds one-word mentions case-insensitively, in order, once each", () => {
    expect(ids("@alice and @ORCHESTRATOR, then @Alice again")).toEqual(["Alice", "Orchestrator"]);
  });

  it("needs brackets for a multi-word alias", () => {
    expect(ids("@Data Bot please")).toEqual([]);
    expect(ids("@[data bot] please and @[ Alice ]")).toEqual(["Data Bot", "Alice"]);
  });

  it("reads trailing punctuation as punctuation unless it is part of an alias", () => {
    expect(ids("thanks @Alice.")).toEqual(["Alice"]);
    expect(ids("ask @web.search-2: now")).toEqual(["web.search-2"]);
    expect(ids("ask @web.search-2.")).toEqual(["web.search-2"]);
  });

  it("matches whole aliases only and ignores unknown ones and e-mail addresses", () => {
    expect(ids("@Alicia @Bob mail ali@alice.com")).toEqual([]);
    expect(ids("@Ali")).toEqual(["Ali"]);
    expect(ids("@[Nobody]")).toEqual([]);
  });
});

describe("markers", () => {
  it("strips TASK_COMPLETE and [MESSAGE_END] anywhere and trims", () => {
    expect(stripMarkers("Done. TASK_COMPLETE")).toBe("Done.");
    expect(stripMarkers("a [MESSAGE_END] b[MESSAGE_END]")).toBe("a  b");
    expect(stripMarkers("TASK_COMPLETE")).toBe("");
    expect(hasTaskComplete("ok TASK_COMPLETE")).toBe(true);
    expect(hasTaskComplete("task complete")).toBe(false);
  });
});
