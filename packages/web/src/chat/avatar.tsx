import { createContext, memo, useContext } from "react";

/** A stable hue per name, so each person and tool keeps its colour. */
export function hueOf(name: string): number {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
  return h % 360;
}

/**
 * Hues of a group's agents by alias, in the order of its members: hashes of short names collide
 * (two agents of three could share a colour), so agents are spread by the golden angle instead.
 */
export function agentHues(aliases: readonly string[]): ReadonlyMap<string, number> {
  return new Map(aliases.map((alias, i) => [alias, Math.round((140 + i * 137.508) % 360)]));
}

/** The agent hues of the group on screen (see {@link agentHues}). */
export const AgentHues = createContext<ReadonlyMap<string, number>>(new Map());

export type SpeakerKind = "user" | "agent" | "tool" | "system";

/** Initials on a coloured disc; people are round, agents rounded squares, tools diamonds. */
export const Avatar = memo(function Avatar({ name, kind }: { name: string; kind: SpeakerKind }) {
  const agentHue = useContext(AgentHues).get(name);
  const hue = kind === "agent" && agentHue !== undefined ? agentHue : hueOf(name);
  const initials =
    kind === "tool"
      ? "⚙"
      : name
          .replace(/@.*$/, "")
          .split(/[\s._-]+/)
          .filter(Boolean)
          .slice(0, 2)
          .map((w) => w[0]!.toUpperCase())
          .join("") || "?";
  return (
    <span
      className={`avatar avatar-${kind}`}
      style={{ backgroundColor: `hsl(${hue} 55% 32%)` }}
      aria-hidden="true"
    >
      {initials}
    </span>
  );
});
