import { randomUUID } from "node:crypto";
import { insertMessage, type Message, PARTIAL_MAX_CHARS, publishFrame, publishToken } from "@synapse/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testConfig, testResources } from "../../../../test/support/services.ts";
import {
  type Frame,
  seedGroup,
  startGateway,
  storeMessage,
  TestClient,
  type TestGateway,
} from "../../test/ws/harness.ts";

/** Sockets that open while replies are streamed get each reply's text so far, then the rest. */
const res = testResources();
const config = testConfig();
const prefix = config.QUEUE_PREFIX;
let gw: TestGateway;

beforeAll(async () => {
  gw = await startGateway(config, res.pool);
});
afterAll(async () => {
  await gw?.close();
  await res.close();
});

/** A group with a running turn, and a way to stream replies of it as the worker does. */
async function runningTurn() {
  const { groupId, users } = await seedGroup(config, res.pool);
  const started = await storeMessage(res.pool, groupId, "go");
  const turnId = randomUUID();
  await res.pool.query(
    `insert into turns (id, group_id, message_id, message_seq, status, started_at)
     values ($1, $2, $3, $4, 'running', now())`,
    [turnId, groupId, started.id, started.seq],
  );
  const sent = new Map<string, string>();
  const reply = (alias: string) => {
    const messageId = randomUUID();
    sent.set(messageId, "");
    return {
      messageId,
      async say(delta: string) {
        const offset = sent.get(messageId)!.length;
        sent.set(messageId, sent.get(messageId)! + delta);
        const ids = { group_id: groupId, turn_id: turnId, message_id: messageId };
        await publishToken(res.redis, prefix, { type: "token", ...ids, alias, delta, offset });
      },
      /** Stores and publishes the final message, as the orchestrator does. */
      async finish(): Promise<Message> {
        const { message } = await insertMessage(res.pool, {
          id: messageId,
          group_id: groupId,
          turn_id: turnId,
          sender_type: "agent",
          sender_alias: alias,
          content: sent.get(messageId)!,
        });
        await publishFrame(res.redis, prefix, groupId, { type: "message", message });
        return message;
      },
    };
  };
  const connect = (query = "") =>
    TestClient.connect(`${gw.url}/ws/${groupId}?token=${users[0]!.token}${query}`);
  return { groupId, turnId, started, reply, connect };
}

function textOf(frames: Frame[], messageId: string): string {
  let text = "";
  for (const f of frames) {
    if (f.message_id !== messageId) continue;
    if (f.type === "partial") text = f.text as string;
    if (f.type === "token") text += f.delta as string;
  }
  return text;
}

describe("joining a turn whose replies are being streamed", () => {
  it("sends the turn, its agents and each reply's text so far, then the tokens that follow", async () => {
    const t = await runningTurn();
    const ann = t.reply("Ann");
    const bob = t.reply("Bob");
    await ann.say("Once ");
    await bob.say("In a ");
    await ann.say("upon ");
    const c = t.connect();
    await c.until((f) => f.filter((x) => x.type === "partial").length === 2, 10_000, "partials");
    expect(c.frames.map((f) => [f.type, f.alias ?? f.turn_id, f.text])).toEqual([
      ["turn.started", t.turnId, undefined],
      ["agent.started", "Ann", undefined],
      ["agent.started", "Bob", undefined],
      ["partial", "Ann", "Once upon "],
      ["partial", "Bob", "In a "],
    ]);
    expect(c.frames[0]).toEqual({
      type: "turn.started",
      group_id: t.groupId,
      turn_id: t.turnId,
      message_id: t.started.id,
    });
    expect(c.frames[3]).toEqual({
      type: "partial",
      group_id: t.groupId,
      turn_id: t.turnId,
      alias: "Ann",
      message_id: ann.messageId,
      text: "Once upon ",
    });
    await ann.say("a time");
    await bob.say("galaxy");
    await ann.say(".");
    const annMessage = await ann.finish();
    await c.until((f) => f.some((x) => x.type === "message"), 10_000, "Ann's message");
    expect(textOf(c.frames, ann.messageId)).toBe(annMessage.content);
    // one partial per reply: the rest came as tokens
    expect(c.frames.filter((f) => f.type === "partial")).toHaveLength(2);
    expect(textOf(c.frames, bob.messageId)).toBe("In a galaxy");
    // the token frames carry no internal field
    expect(Object.keys(c.frames.find((f) => f.type === "token")!).sort()).toEqual(
      ["alias", "delta", "group_id", "message_id", "turn_id", "type"].sort(),
    );

    // a socket opening now (with after=) gets no partial of the reply whose message is stored
    const late = t.connect("&after=0");
    await late.until((f) => f.some((x) => x.type === "partial"), 10_000, "Bob's partial");
    expect(late.frames.filter((f) => f.type === "partial").map((f) => [f.alias, f.text])).toEqual([
      ["Bob", "In a galaxy"],
    ]);
    expect(late.frames.filter((f) => f.type === "agent.started").map((f) => f.alias)).toEqual(["Bob"]);
    // stored messages first, then the running turn
    expect(late.frames.slice(0, 3).map((f) => f.type)).toEqual(["message", "message", "turn.started"]);
    c.close();
    late.close();
  });

  it("sends nothing of a reply after its message, even when the group joins the stream late", async () => {
    const t = await runningTurn();
    const ann = t.reply("Ann");
    await ann.say("Once ");
    const final = await ann.finish();
    // no socket of the group yet: this gateway first hears of the reply after its message is stored
    const c = t.connect("&after=0");
    await c.until((f) => f.some((x) => x.type === "turn.started"), 10_000, "the turn's state");
    await ann.say("stale");
    await publishFrame(res.redis, prefix, t.groupId, {
      type: "turn.ended",
      group_id: t.groupId,
      turn_id: t.turnId,
      reason: "completed",
    });
    await c.until((f) => f.some((x) => x.type === "turn.ended"), 10_000, "turn.ended");
    expect(c.frames.map((f) => f.type)).toEqual(["message", "message", "turn.started", "turn.ended"]);
    expect((c.frames[1]!.message as Message).id).toBe(final.id);
    c.close();
  });

  it("sends nothing of a turn that is not running", async () => {
    const t = await runningTurn();
    const ann = t.reply("Ann");
    await ann.say("half a reply");
    await res.pool.query(
      "update turns set status = 'ended', reason = 'cancelled', ended_at = now() where id = $1",
      [t.turnId],
    );
    const c = t.connect("&after=0");
    await c.until((f) => f.some((x) => x.type === "message"), 10_000, "the stored message");
    await new Promise((r) => setTimeout(r, 200));
    expect(c.frames.map((f) => f.type)).toEqual(["message"]);
    c.close();
  });

  it("sends no text of a reply past the cap: it shows with its final message", async () => {
    const t = await runningTurn();
    const ann = t.reply("Ann");
    await ann.say("x".repeat(PARTIAL_MAX_CHARS));
    await ann.say("y");
    const c = t.connect();
    await c.until((f) => f.some((x) => x.type === "agent.started"), 10_000, "the turn's state");
    await ann.say("z");
    const final = await ann.finish();
    await c.until((f) => f.some((x) => x.type === "message"), 10_000, "Ann's message");
    expect(c.frames.filter((f) => f.type === "partial" || f.type === "token")).toEqual([]);
    expect((c.frames.find((f) => f.type === "message")!.message as Message).content).toBe(final.content);
    c.close();
  });
});
