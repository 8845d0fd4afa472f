import type { Message } from "@synapse/shared";
import { createRedis } from "@synapse/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  agentOf,
  type FrameLog,
  isFrame,
  openSocket,
  type ReceivedFrame,
  type Stack,
  startStack,
} from "./stack.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack?.close());

/** Two agents answer at once, slowly, word by word; then the Orchestrator completes. */
function twoSlowAgents(words: number, chunkDelayMs: number) {
  return (req: { system?: string }) => {
    const who = agentOf(req.system);
    if (who === "Ann" || who === "Bob")
      return {
        // no trailing space: the stored message is the streamed text exactly
        chunks: Array.from({ length: words }, (_, i) => `${i ? " " : ""}${who.toLowerCase()}${i}`),
        chunkDelayMs,
      };
    return { text: "Both answered. TASK_COMPLETE" };
  };
}

/** A reply's text as a client builds it: a `partial` sets it, a `token` appends to it. */
function replyText(frames: ReceivedFrame[], messageId: string): { text: string; partials: number } {
  let text = "";
  let partials = 0;
  for (const f of frames) {
    if (f.type === "partial" && f.message_id === messageId) {
      text = f.text;
      partials++;
    } else if (f.type === "token" && f.message_id === messageId) text += f.delta;
  }
  return { text, partials };
}

/** Each agent's final message, and the text the socket built for it before that message came. */
function checkReplies(log: FrameLog, finals: Message[]): void {
  for (const m of finals) {
    const upTo = log.frames.findIndex((f) => f.type === "message" && f.message.id === m.id);
    expect(upTo).toBeGreaterThan(0);
    expect(replyText(log.frames.slice(0, upTo), m.id).text).toBe(m.content);
    // nothing of the reply after its message
    expect(replyText(log.frames.slice(upTo), m.id)).toEqual({ text: "", partials: 0 });
  }
}

async function startTurn(words: number, chunkDelayMs: number) {
  stack.fake.reset();
  stack.fake.respond(twoSlowAgents(words, chunkDelayMs));
  const owner = await stack.user();
  const group = await stack.group(owner.token, "resume", ["Ann", "Bob"]);
  const live = await openSocket(stack, group.id, owner.token);
  const posted = await stack.api<Message>("POST", `/groups/${group.id}/messages`, {
    token: owner.token,
    body: { content: "@Ann @Bob tell me a long story each" },
  });
  const turnId = posted.body.turn_id!;
  const tokensOf = (log: FrameLog, alias: string) =>
    log.frames.filter((f) => f.type === "token" && f.alias === alias).length;
  const finals = async (log: FrameLog) => {
    await log.waitFor(
      isFrame("turn.ended", (f) => f.turn_id === turnId),
      30_000,
    );
    return log.frames
      .filter((f) => f.type === "message" && f.message.sender_type === "agent")
      .map((f) => (f as { message: Message }).message)
      .filter((m) => m.sender_alias === "Ann" || m.sender_alias === "Bob");
  };
  /** Resolves once both agents are streaming, as the socket that was there from the start sees. */
  const streaming = async () => {
    await live.waitFor(isFrame("token", (f) => f.alias === "Ann"));
    await live.waitFor(isFrame("token", (f) => f.alias === "Bob"));
  };
  return { owner, group, live, turnId, tokensOf, finals, streaming };
}

describe("a socket that joins in the middle of streamed replies", () => {
  it("gets the text so far of each reply, then the rest of it, equal to the final message", {
    timeout: 60_000,
  }, async () => {
    const t = await startTurn(60, 40);
    await t.streaming();
    while (t.tokensOf(t.live, "Ann") < 5 || t.tokensOf(t.live, "Bob") < 5)
      await new Promise((r) => setTimeout(r, 20));
    const late = await openSocket(stack, t.group.id, t.owner.token);
    const replay = await openSocket(stack, t.group.id, t.owner.token, 0);

    const finals = await t.finals(t.live);
    expect(finals.map((m) => m.sender_alias).sort()).toEqual(["Ann", "Bob"]);
    for (const log of [late, replay]) {
      await log.waitFor(
        isFrame("turn.ended", (f) => f.turn_id === t.turnId),
        30_000,
      );
      checkReplies(log, finals);
      const partials = log.frames.filter((f) => f.type === "partial");
      // one partial per reply, with text: the socket joined mid-reply
      expect(partials.map((f) => f.alias).sort()).toEqual(["Ann", "Bob"]);
      for (const p of partials) expect(p.text.length).toBeGreaterThan(0);
      // the turn's state came before the partials: turn.started, then each agent
      const first = log.frames.indexOf(partials[0]!);
      const before = log.frames.slice(0, first);
      expect(before.some((f) => f.type === "turn.started" && f.turn_id === t.turnId)).toBe(true);
      for (const alias of ["Ann", "Bob"])
        expect(before.some((f) => f.type === "agent.started" && f.alias === alias)).toBe(true);
    }
    // the socket that was there from the start needed no partial
    expect(t.live.frames.filter((f) => f.type === "partial")).toEqual([]);
    checkReplies(t.live, finals);
    for (const log of [t.live, late, replay]) log.close();
  });

  it("after the gateway's subscriber reconnects, restores the replies' text so far", {
    timeout: 60_000,
  }, async () => {
    const t = await startTurn(150, 15);
    await t.streaming();
    // cut the gateway's subscriber: the token frames published until it is back are lost on the wire
    const admin = createRedis(stack.config.REDIS_URL!);
    try {
      const list = (await admin.client("LIST")) as string;
      const name = `name=${stack.config.QUEUE_PREFIX}-gateway-ws `;
      const id = /id=(\d+) /.exec(list.split("\n").find((l) => l.includes(name)) ?? "")?.[1];
      expect(id).toBeDefined();
      await admin.client("KILL", "ID", id!);
    } finally {
      admin.disconnect();
    }
    const finals = await t.finals(t.live);
    checkReplies(t.live, finals);
    expect(t.live.frames.filter((f) => f.type === "partial").length).toBeGreaterThan(0);
    t.live.close();
  });
});
