/** Scripts and seeds shared by the browser tests and the web bench. */
import { randomUUID } from "node:crypto";
import type pg from "pg";
import type { FakeReply, FakeRequest } from "../fakes/llm-server.ts";

/** Which agent a fake-provider request is for ("You are <alias>, ..." in its system prompt). */
export function agentOf(system: string | undefined): string {
  return /You are ([^,]+),/.exec(system ?? "")?.[1] ?? "?";
}

/** `n` words, "w1 w2 …", numbered so a test can tell where a stream starts. */
export function words(n: number, prefix = "w"): string {
  return Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`).join(" ");
}

/**
 * A fake that lets each mentioned agent answer with `reply(alias)` and the Orchestrator close the
 * turn once every agent it heard from has spoken.
 */
export function agentsAnswer(reply: (alias: string, req: FakeRequest) => FakeReply) {
  return (req: FakeRequest): FakeReply => {
    const who = agentOf(req.system);
    if (who === "Orchestrator") return { text: "All done. TASK_COMPLETE" };
    return reply(who, req);
  };
}

/**
 * `count` messages in a group, seqs 1..count, written straight to the table (as if posted long
 * ago, with no turns), and the group's seq counter moved past them.
 */
export async function seedMessages(pool: pg.Pool, groupId: string, count: number): Promise<void> {
  await pool.query(
    `insert into messages (id, group_id, seq, sender_type, sender_alias, content, created_at)
     select gen_random_uuid(), $1, g, case when g % 2 = 0 then 'agent' else 'user' end,
            case when g % 2 = 0 then 'Alpha' else 'seed@example.com' end,
            'Seeded message number ' || g, now() - (($2 - g) || ' seconds')::interval
       from generate_series(1, $2::int) g`,
    [groupId, count],
  );
  await pool.query("update groups set last_seq = $2 where id = $1", [groupId, count]);
}

export const uniqueEmail = () => `web-${randomUUID()}@example.com`;
