import { memo } from "react";

/** A stable hue per name, so each agent, person and tool keeps its colour. */
export function hueOf(name: string): number {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
  return h % 360;
}

export type SpeakerKind = "user" | "agent" | "tool" | "system";

/** Initials on a coloured disc; people are round, agents rounded squares, tools diamonds. */
export const Avatar = memo(function Avatar({ name, kind }: { name: string; kind: SpeakerKind }) {
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
      style={{ backgroundColor: `hsl(${hueOf(name)} 55% 32%)` }}
      aria-hidden="true"
    >
      {initials}
    </span>
  );
});
