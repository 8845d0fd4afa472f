import { randomUUID } from "node:crypto";
import { createRedis, type GroupFrame, groupChannel, type Message, publishFrame } from "@synapse/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testConfig, testResources } from "../../../../test/support/services.ts";
import {
  postMessage,
  seedGroup,
  spawnGateway,
  startGateway,
  storeMessage,
  TestClient,
  type TestGateway,
  waitLive,
} from "../../test/ws/harness.ts";

const config = testConfig({ WS_SEND_BUFFER_BYTES: String(256 * 1024) });
const prefix = config.QUEUE_PREFIX;
const res = testResources();
let gw: TestGateway;

beforeAll(async () => {
  gw = await startGateway(config, res.pool);
});

afterAll(async () => {
  await gw.close();
  await res.close();
});

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

async function subscribers(groupId: string): Promise<number> {
  const reply = (await res.redis.pubsub("NUMSUB", groupChannel(prefix, groupId))) as [string, number];
  return Number(reply[1]);
}

function turnFrames(groupId: string, turnId: string, message: Message): GroupFrame[] {
  const base = { group_id: groupId, turn_id: turnId };
  return [
    { type: "turn.started", ...base, message_id: message.id },
    { type: "agent.started", ...base, alias: "Writer" },
    ...["Hel", "lo ", "TASK_COMPLETE"].map(
      (delta): GroupFrame => ({ type: "token", ...base, alias: "Writer", message_id: message.id, delta }),
    ),
    { type: "message", message },
    { type: "agent.finished", ...base, alias: "Writer" },
    { type: "turn.ended", ...base, reason: "completed" },
  ];
}

describe("fan-out", () => {
  it("gives every tab each frame once, in order, over one subscription per process", async () => {
    const { groupId, users } = await seedGroup(config, res.pool, 2);
    const tabs = [0, 0, 0, 1].map((u) =>
      TestClient.connect(`${gw.url}/ws/${groupId}?token=${users[u]!.token}`),
    );
    await waitLive(tabs, res.redis, prefix, groupId);
    expect(await subscribers(groupId)).toBe(1);

    const m = await storeMessage(res.pool, groupId, "Hello");
    const frames = turnFrames(groupId, randomUUID(), m);
    for (const f of frames) await publishFrame(res.redis, prefix, groupId, f);
    // extra fields a publisher might add never reach a client
    await publishFrame(res.redis, prefix, groupId, {
      ...(frames[1] as object),
      secret: "internal",
    } as unknown as GroupFrame);
    const expected = [...frames, frames[1]];
    for (const tab of tabs) {
      await tab.until((f) => f.length >= expected.length);
      await new Promise((r) => setTimeout(r, 50));
      expect(tab.frames).toEqual(expected);
    }
    for (const tab of tabs) tab.close();
    await Promise.all(tabs.map((t) => t.closed));
    await expect.poll(() => subscribers(groupId)).toBe(0);
  });

  it("sends message frames in seq order and once, even when publishes cross or repeat", async () => {
    const { groupId, users } = await seedGroup(config, res.pool);
    const c = TestClient.connect(`${gw.url}/ws/${groupId}?token=${users[0]!.token}`);
    await waitLive([c], res.redis, prefix, groupId);
    const [m1, m2, m3, m4] = [
      await storeMessage(res.pool, groupId, "1"),
      await storeMessage(res.pool, groupId, "2"),
      await storeMessage(res.pool, groupId, "3"),
      await storeMessage(res.pool, groupId, "4"),
    ] as [Message, Message, Message, Message];
    // 3 arrives before 2 (another process was faster); 4 is never published (read from the database)
    for (const m of [m1, m3, m2, m3, m1, m2])
      await publishFrame(res.redis, prefix, groupId, { type: "message", message: m });
    await c.until((f) => f.length >= 3);
    const m5 = await postMessage(res.pool, res.redis, prefix, groupId, "5");
    await c.until((f) => f.length >= 5);
    await new Promise((r) => setTimeout(r, 50));
    expect(c.frames).toEqual([m1, m2, m3, m4, m5].map((message) => ({ type: "message", message })));
    c.close();
  });

  it("after a cancel forwards no frame of that turn except its turn.ended", async () => {
    const { groupId, users } = await seedGroup(config, res.pool);
    const c = TestClient.connect(`${gw.url}/ws/${groupId}?token=${users[0]!.token}`);
    await waitLive([c], res.redis, prefix, groupId);
    const turn = randomUUID();
    const other = randomUUID();
    const base = { group_id: groupId, turn_id: turn };
    const tok = (turn_id: string, delta: string): GroupFrame => ({
      type: "token",
      group_id: groupId,
      turn_id,
      alias: "A",
      message_id: turn_id,
      delta,
    });
    const sequence: GroupFrame[] = [
      tok(turn, "before"),
      { type: "_turn.cancelled", ...base },
      tok(turn, "after"),
      { type: "agent.finished", ...base, alias: "A" },
      tok(other, "other turn"),
      { type: "turn.ended", ...base, reason: "cancelled" },
    ];
    for (const f of sequence) await publishFrame(res.redis, prefix, groupId, f);
    await c.until((f) => f.length >= 3);
    await new Promise((r) => setTimeout(r, 50));
    expect(c.frames).toEqual([sequence[0], sequence[4], sequence[5]]);
    c.close();
  });

  it("a turn.ended with reason cancelled is enough (its control frame lost): later frames of the turn stay out, repeats too", async () => {
    const { groupId, users } = await seedGroup(config, res.pool);
    const c = TestClient.connect(`${gw.url}/ws/${groupId}?token=${users[0]!.token}`);
    await waitLive([c], res.redis, prefix, groupId);
    const turn = randomUUID();
    const base = { group_id: groupId, turn_id: turn };
    const sequence: GroupFrame[] = [
      { type: "turn.started", ...base, message_id: turn },
      { type: "turn.started", ...base, message_id: turn },
      { type: "turn.ended", ...base, reason: "cancelled" },
      { type: "token", ...base, alias: "A", message_id: turn, delta: "late" },
      { type: "agent.finished", ...base, alias: "A" },
      { type: "turn.ended", ...base, reason: "cancelled" },
      { type: "turn.ended", group_id: groupId, turn_id: randomUUID(), reason: "completed" },
    ];
    for (const f of sequence) await publishFrame(res.redis, prefix, groupId, f);
    await c.until((f) => f.length >= 3);
    await new Promise((r) => setTimeout(r, 50));
    expect(c.frames).toEqual([sequence[0], sequence[2], sequence[6]]);
    c.close();
  });
});

describe("catch-up with ?after=", () => {
  it("replays stored messages then goes live", async () => {
    const { groupId, users } = await seedGroup(config, res.pool);
    for (let i = 1; i <= 5; i++) await storeMessage(res.pool, groupId, `old ${i}`);
    const c = TestClient.connect(`${gw.url}/ws/${groupId}?after=2&token=${users[0]!.token}`);
    await c.until((f) => f.length >= 3);
    await postMessage(res.pool, res.redis, prefix, groupId, "new");
    await c.until((f) => f.length >= 4);
    expect(c.seqs()).toEqual([3, 4, 5, 6]);
    // an `after` beyond the last seq cannot hide what comes next
    const ahead = TestClient.connect(`${gw.url}/ws/${groupId}?after=999&token=${users[0]!.token}`);
    await waitLive([ahead], res.redis, prefix, groupId);
    await postMessage(res.pool, res.redis, prefix, groupId, "newer");
    await ahead.until((f) => f.length >= 1);
    expect(ahead.seqs()).toEqual([7]);
    c.close();
    ahead.close();
  });

  it("replays a history larger than a page and than the send buffer, paced, without closing", async () => {
    const { groupId, users } = await seedGroup(config, res.pool);
    const body = "h".repeat(8000);
    // 1,200 messages of ~8.3 KB: 10 MB, forty times the 256 KiB send bound of this gateway and more
    // than the kernel's socket buffers take
    await res.pool.query(
      `with s as (update groups set last_seq = 1200 where id = $1)
       insert into messages (id, group_id, seq, sender_type, sender_alias, content)
       select gen_random_uuid(), $1, n, 'system', 'system', $2 || n from generate_series(1, 1200) n`,
      [groupId, body],
    );
    const c = TestClient.connect(`${gw.url}/ws/${groupId}?after=0&token=${users[0]!.token}`);
    // a client that does not read for a while: the replay must wait for it, not overflow and close
    await c.opened;
    c.ws.pause();
    await new Promise((r) => setTimeout(r, 500));
    c.ws.resume();
    await c.until((f) => f.length >= 1200, 20_000, "1200 messages");
    expect(c.seqs()).toEqual(range(1, 1200));
    expect((c.frames[1199]!.message as Message).content).toBe(`${body}1200`);
    const m = await postMessage(res.pool, res.redis, prefix, groupId, "live");
    await c.until((f) => f.length >= 1201);
    expect(c.frames[1200]).toEqual({ type: "message", message: m });
    c.close();
  });

  it("loses and repeats nothing across a reconnect during a burst of crossing publishes", async () => {
    const { groupId, users } = await seedGroup(config, res.pool);
    const token = users[0]!.token;
    const url = (after: number) => `${gw.url}/ws/${groupId}?after=${after}&token=${token}`;
    const steady = TestClient.connect(url(0));
    await steady.opened;

    // three writers, each with its own connection: their publishes interleave out of seq order,
    // and every fifth message is published twice, as a retried step would. They write until the
    // reconnected sockets have caught up and received live messages, so both overlap the burst.
    const writers = [0, 1, 2].map(() => createRedis(config.REDIS_URL!));
    let stop = false;
    let written = 0;
    const burst = Promise.all(
      writers.map(async (redis) => {
        while (!stop) {
          const m = await storeMessage(res.pool, groupId, `burst ${++written}`);
          await publishFrame(redis, prefix, groupId, { type: "message", message: m });
          if (m.seq % 5 === 0) await publishFrame(redis, prefix, groupId, { type: "message", message: m });
        }
      }),
    );

    const first = TestClient.connect(url(0));
    await first.until((f) => f.length >= 60, 20_000, "60 messages");
    first.close();
    await first.closed;
    const last = first.seqs().at(-1)!;
    const writtenAtReconnect = written;
    const second = TestClient.connect(url(last));
    const late = TestClient.connect(url(0));
    await second.until(
      (f) => f.length >= writtenAtReconnect - last + 100,
      20_000,
      "second past the reconnect",
    );
    await late.until((f) => f.length >= writtenAtReconnect + 100, 20_000, "late past the reconnect");
    stop = true;
    await burst;
    for (const w of writers) w.disconnect();
    const total = written;
    for (const c of [steady, second, late])
      await c.until(
        (f) => f.some((x) => (x.message as Message | undefined)?.seq === total),
        20_000,
        "last seq",
      );
    await new Promise((r) => setTimeout(r, 100));

    expect(first.seqs()).toEqual(range(1, last));
    expect(second.seqs()).toEqual(range(last + 1, total));
    expect(steady.seqs()).toEqual(range(1, total));
    expect(late.seqs()).toEqual(range(1, total));
    for (const c of [steady, second, late]) c.close();
  });
});

describe("several gateway processes", () => {
  it("delivers what any publisher sends to the clients of every gateway", async () => {
    const second = await startGateway(config, res.pool);
    const child = await spawnGateway(config);
    try {
      const { groupId, users } = await seedGroup(config, res.pool);
      const token = users[0]!.token;
      const clients = [gw, second, child, child].map((g) =>
        TestClient.connect(`${g.url}/ws/${groupId}?token=${token}`),
      );
      await waitLive(clients, res.redis, prefix, groupId);
      // one subscription per process, whatever the number of sockets
      expect(await subscribers(groupId)).toBe(3);
      const otherPublisher = createRedis(config.REDIS_URL!);
      const m1 = await postMessage(res.pool, res.redis, prefix, groupId, "from one orchestrator");
      const m2 = await postMessage(res.pool, otherPublisher, prefix, groupId, "from another");
      otherPublisher.disconnect();
      for (const c of clients) {
        await c.until((f) => f.length >= 2);
        await new Promise((r) => setTimeout(r, 30));
        expect(c.frames).toEqual([m1, m2].map((message) => ({ type: "message", message })));
        c.close();
      }
    } finally {
      await second.close();
      await child.close();
    }
  });
});

describe("back-pressure", () => {
  it("closes a slow consumer with 1013 without delaying a fast one; it catches up with ?after=", async () => {
    const { groupId, users } = await seedGroup(config, res.pool);
    const token = users[0]!.token;
    const slow = TestClient.connect(`${gw.url}/ws/${groupId}?token=${token}`);
    const fast = TestClient.connect(`${gw.url}/ws/${groupId}?token=${token}`);
    await waitLive([slow, fast], res.redis, prefix, groupId);
    slow.ws.pause();

    // ~19 MB of token frames, more than the kernel buffers and the 256 KiB send bound together,
    // with a stored message every tenth frame. Each frame is published once the fast client has the
    // previous one: gateway, publisher and clients share this process's event loop, and a burst
    // published in one go would sit in the gateway's buffer for the fast socket too, past the bound.
    const delta = "x".repeat(64 * 1024);
    const turnId = randomUUID();
    const total = 300;
    const started = Date.now();
    for (let i = 1; i <= total; i++) {
      if (i % 10 === 0) await postMessage(res.pool, res.redis, prefix, groupId, `m${i}`);
      else
        await publishFrame(res.redis, prefix, groupId, {
          type: "token",
          group_id: groupId,
          turn_id: turnId,
          alias: "A",
          message_id: turnId,
          delta,
        });
      await fast.until((f) => f.length >= i, 10_000, `frame ${i} on the fast socket`);
    }
    const fastMs = Date.now() - started;
    expect(fast.seqs()).toEqual(range(1, 30));

    slow.ws.resume();
    const closed = await slow.closed;
    expect(closed.code).toBe(1013);
    const hinted = Number(/^slow consumer: reconnect with \?after=(\d+)$/.exec(closed.reason)?.[1]);
    expect(slow.frames.length).toBeLessThan(total);
    // everything queued before the close frame arrived, so the hint is the client's own last seq
    expect(hinted).toBe(slow.seqs().at(-1) ?? 0);

    const again = TestClient.connect(`${gw.url}/ws/${groupId}?after=${hinted}&token=${token}`);
    await again.until((f) => f.length >= 30 - hinted);
    expect([...slow.seqs(), ...again.seqs()]).toEqual(range(1, 30));
    expect(fastMs).toBeLessThan(15_000);
    fast.close();
    again.close();
  });
});
