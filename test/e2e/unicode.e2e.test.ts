import type { Message } from "@synapse/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentOf, type GroupBody, isFrame, openSocket, type Stack, startStack } from "./stack.ts";

/**
 * Turns over text beyond ASCII: characters outside the BMP (two UTF-16 units each), ZWJ sequences,
 * combining marks and right-to-left scripts. Whatever the text, and whatever an LLM sends back (a
 * lone surrogate, a reply cut between the halves of a character), the turn completes and the
 * stored text is the text.
 */

const SAMPLES = "emoji 😀🎉, family 👩‍👩‍👧, math 𝕏𝕪𝕫, Hebrew שלום, Arabic مرحبا, café with e\u0301";
// "a" then astral letters: a cut after an even number of units falls between the halves of one
const LONG = `a${"𝕏".repeat(200)} ${SAMPLES}`;
const HALF = "𝕪".slice(0, 1);

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

async function post(groupId: string, token: string, content: string) {
  const live = await openSocket(stack, groupId, token);
  const posted = await stack.api<Message>("POST", `/groups/${groupId}/messages`, {
    token,
    body: { content },
  });
  expect(posted.status).toBe(202);
  const ended = await live.waitFor(
    isFrame("turn.ended", (f) => f.turn_id === posted.body.turn_id),
    25_000,
  );
  live.close();
  const stored = await stack.api<Message[]>("GET", `/groups/${groupId}/messages?limit=200`, { token });
  return { reason: ended.reason, posted: posted.body, stored: stored.body };
}

function expectWellFormed(messages: Message[]) {
  for (const m of messages) expect(m.content.isWellFormed(), m.content).toBe(true);
}

describe("a turn over astral, combined and right-to-left text", () => {
  it("completes through the demo provider, quoting the text cut between graphemes", {
    timeout: 40_000,
  }, async () => {
    const owner = await stack.user();
    const created = await stack.api<GroupBody>("POST", "/groups", {
      token: owner.token,
      body: { name: `демо ${SAMPLES}`, members: [{ alias: "Helper", provider: "demo", model: "demo" }] },
    });
    expect(created.status).toBe(201);
    const group = created.body;
    const orchestrator = group.members.find((m) => m.is_orchestrator)!;
    await stack.api("PUT", `/groups/${group.id}/members/${orchestrator.id}`, {
      token: owner.token,
      body: { provider: "demo", model: "demo" },
    });

    for (const content of [LONG, SAMPLES]) {
      const { reason, posted, stored } = await post(group.id, owner.token, content);
      expect(reason).toBe("completed");
      const turn = stored.filter((m) => m.turn_id === posted.turn_id);
      expect(turn[0]!.content).toBe(content);
      expectWellFormed(turn);
      // the Orchestrator's delegation quotes the request: a start of it, whole characters only
      const quoted = /request: "(.*)"$/su.exec(turn[1]!.content)?.[1];
      expect(quoted).toBeDefined();
      expect(content.startsWith(quoted!.replace(/…$/, ""))).toBe(true);
      expect(turn.at(-1)!.sender_alias).toBe("Orchestrator");
    }
  });

  it("completes through a provider that quotes it and sends lone surrogates and a cut reply", {
    timeout: 40_000,
  }, async () => {
    stack.fake.reset();
    stack.fake.respond((req) => {
      const who = agentOf(req.system);
      const request = req.messages.find((m) => m.role === "user")?.content ?? "";
      if (who === "Echo") return { chunks: ["You said: ", request, " \ud800 and ", `cut ${HALF}`] };
      // a character split across two chunks of the stream is one character again
      if (req.messages.some((m) => m.content.includes("You said:")))
        return { chunks: [`Echo answered 𝕏${HALF}`, `\udc00 ${SAMPLES}. TASK_COMPLETE`] };
      return { text: `@[Echo] repeat this: ${SAMPLES}` };
    });
    const owner = await stack.user();
    const group = await stack.group(owner.token, "echo", ["Echo"]);
    const { reason, posted, stored } = await post(group.id, owner.token, SAMPLES);
    expect(reason).toBe("completed");
    expectWellFormed(stored);
    expect(stored.map((m) => [m.sender_alias, m.content])).toEqual([
      [owner.email, SAMPLES],
      ["Orchestrator", `@[Echo] repeat this: ${SAMPLES}`],
      ["Echo", `You said: [${owner.email}]: ${SAMPLES} \ufffd and cut \ufffd`],
      ["Orchestrator", `Echo answered 𝕏\u{1d400} ${SAMPLES}.`],
    ]);
    expect(stored[0]!.id).toBe(posted.id);
  });
});
