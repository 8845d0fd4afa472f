import { describe, expect, it } from "vitest";
import { agentHues } from "./avatar.tsx";

describe("agentHues", () => {
  it("gives up to eight agents of a group hues at least 20° apart", () => {
    const aliases = ["Orchestrator", "Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta", "Eta"];
    const hues = [...agentHues(aliases).values()];
    expect(hues).toHaveLength(8);
    for (const [i, a] of hues.entries())
      for (const b of hues.slice(i + 1)) {
        const apart = Math.min(Math.abs(a - b), 360 - Math.abs(a - b));
        expect(apart).toBeGreaterThanOrEqual(20);
      }
  });

  it("keeps an agent's hue while the agents before it stay", () => {
    expect(agentHues(["Orchestrator", "Alpha"]).get("Alpha")).toBe(
      agentHues(["Orchestrator", "Alpha", "Beta"]).get("Alpha"),
    );
  });
});
