/** Markers an agent writes that are control signals, not text. */
export const TASK_COMPLETE = "TASK_COMPLETE";
export const MESSAGE_END = "[MESSAGE_END]";

export interface Mentionable {
  id: string;
  alias: string;
}

const BRACKETED = /@\[([^\]\n]{1,100})\]/gu;
// `@word` not preceded by a word character (so `bob@example.com` mentions nobody)
const BARE = /(?<![\p{L}\p{N}._-])@([\p{L}\p{N}._-]{1,100})/gu;

/**
 * The agents mentioned in `text`, in order of first mention, each once: `@[Alias]` for any alias,
 * `@Alias` for a one-word alias (trailing `.`, `-`, `_` are read as punctuation when the whole word
 * is not an alias). Matched case-insensitively; unknown aliases are ignored.
 */
export function parseMentions<T extends Mentionable>(text: string, agents: readonly T[]): T[] {
  const byAlias = new Map<string, T>();
  for (const a of agents) byAlias.set(a.alias.trim().toLowerCase(), a);
  const found: { at: number; agent: T }[] = [];
  for (const m of text.matchAll(BRACKETED)) {
    const agent = byAlias.get(m[1]!.trim().toLowerCase());
    if (agent) found.push({ at: m.index, agent });
  }
  for (const m of text.matchAll(BARE)) {
    let word = m[1]!;
    for (;;) {
      const agent = byAlias.get(word.toLowerCase());
      if (agent && !/\s/u.test(agent.alias.trim())) {
        found.push({ at: m.index, agent });
        break;
      }
      const shorter = word.replace(/[._-]$/u, "");
      if (shorter === word || shorter === "") break;
      word = shorter;
    }
  }
  found.sort((a, b) => a.at - b.at);
  const out: T[] = [];
  const seen = new Set<string>();
  for (const { agent } of found) {
    if (seen.has(agent.id)) continue;
    seen.add(agent.id);
    out.push(agent);
  }
  return out;
}

/** Whether an Orchestrator's answer closes the turn. */
export function hasTaskComplete(text: string): boolean {
  return text.includes(TASK_COMPLETE);
}

/**
 * The text as stored: both markers removed wherever they appear, surrounding blank space trimmed.
 * An answer that was only a marker becomes the empty string; it is still stored (its `message_id`
 * was announced by the streamed `token` frames, and the final `message` frame settles it).
 */
export function stripMarkers(text: string): string {
  return text.split(TASK_COMPLETE).join("").split(MESSAGE_END).join("").trim();
}
