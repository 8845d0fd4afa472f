import { groupChannel } from "@synapse/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestGateway, type TestUser, testGateway } from "../../test/helpers.ts";

let gw: TestGateway;
beforeAll(async () => {
  gw = await testGateway({ RATE_LIMIT_MESSAGES_PER_MINUTE: "1000" });
});
afterAll(async () => {
  await gw.close();
});

const post = (user: TestUser, groupId: string, content: string, headers?: Record<string, string>) =>
  gw.call("POST", `/groups/${groupId}/messages`, {
    token: user.token,
    body: { content },
    ...(headers ? { headers } : {}),
  });

describe("POST /groups/{id}/messages", () => {
  it("202 Message with a new turn; stored, then published, then handed to the orchestrator queue", async () => {
    const owner = await gw.user();
    const g = await gw.group(owner);
    const sub = gw.redis.duplicate();
    const frames: { type: string; message: { id: string } }[] = [];
    let seenInDb: boolean | undefined;
    let firstTurn: string | undefined;
    await sub.subscribe(groupChannel(gw.config.QUEUE_PREFIX, g.id));
    sub.on("message", (_c, raw) => {
      const frame = JSON.parse(raw);
      frames.push(frame);
      // publish after commit: a reader woken by the frame finds the row
      void gw.pool
        .query("select 1 from messages where id = $1", [frame.message.id])
        .then((r) => (seenInDb = r.rowCount === 1));
    });
    try {
      const res = await post(owner, g.id, "Hello @[Writer]");
      expect(res.statusCode).toBe(202);
      const m = res.json();
      firstTurn = m.turn_id;
      expect(m).toEqual({
        id: expect.any(String),
        group_id: g.id,
        seq: 1,
        turn_id: expect.any(String),
        sender_type: "user",
        sender_alias: owner.email,
        sender_user_id: owner.id,
        content: "Hello @[Writer]",
        tool_calls: null,
        tool_call_id: null,
        created_at: expect.any(String),
        meta: null,
      });
      await expect.poll(() => frames.length).toBe(1);
      expect(frames[0]).toEqual({ type: "message", message: m });
      await expect.poll(() => seenInDb).toBe(true);
      const turn = await gw.pool.query(
        "select group_id, message_id, message_seq, status from turns where id = $1",
        [m.turn_id],
      );
      expect(turn.rows[0]).toEqual({ group_id: g.id, message_id: m.id, message_seq: 1, status: "queued" });
      const jobs = await gw.queue.getJobs(["waiting", "delayed", "prioritized"]);
      expect(jobs.some((j) => j.name === "advance" && j.data.group_id === g.id)).toBe(true);
    } finally {
      sub.disconnect();
    }
    const second = await post(owner, g.id, "again");
    expect(second.json().seq).toBe(2);
    expect(second.json().turn_id).not.toBe(firstTurn);
  });

  it("Idempotency-Key: a retry by the same user returns the first message and stores nothing new", async () => {
    const [owner, friend] = [await gw.user(), await gw.user()];
    const g = await gw.group(owner, undefined, [friend]);
    const first = await post(owner, g.id, "once", { "idempotency-key": "k-1" });
    const retry = await post(owner, g.id, "once", { "idempotency-key": "k-1" });
    expect(first.statusCode).toBe(202);
    expect(retry.statusCode).toBe(202);
    expect(retry.json()).toEqual(first.json());
    // the key is per user
    const theirs = await post(friend, g.id, "mine", { "idempotency-key": "k-1" });
    expect(theirs.json().id).not.toBe(first.json().id);
    // racing retries
    const racing = await Promise.all(
      Array.from({ length: 10 }, () => post(owner, g.id, "race", { "idempotency-key": "k-2" })),
    );
    expect(new Set(racing.map((r) => r.statusCode))).toEqual(new Set([202]));
    expect(new Set(racing.map((r) => r.json().id)).size).toBe(1);
    const { rows } = await gw.pool.query("select count(*)::int as n from messages where group_id = $1", [
      g.id,
    ]);
    expect(rows[0].n).toBe(3);
    const turns = await gw.pool.query("select count(*)::int as n from turns where group_id = $1", [g.id]);
    expect(turns.rows[0].n).toBe(3);
  });

  it("422 for empty or too long content, a too long Idempotency-Key, unknown fields", async () => {
    const owner = await gw.user();
    const g = await gw.group(owner);
    for (const [body, field] of [
      [{ content: "" }, "body.content"],
      [{ content: "x".repeat(10_001) }, "body.content"],
      [{}, "body.content"],
      [{ content: 5 }, "body.content"],
      [{ content: "nul \u0000 byte" }, "body.content"],
      [{ content: "hi", role: "system" }, "body.role"],
    ] as const) {
      const res = await gw.call("POST", `/groups/${g.id}/messages`, { token: owner.token, body });
      expect({ field, status: res.statusCode }).toEqual({ field, status: 422 });
      expect(res.json().detail).toContain(field);
    }
    expect((await post(owner, g.id, "x".repeat(10_000))).statusCode).toBe(202);
    const longKey = await post(owner, g.id, "hi", { "idempotency-key": "k".repeat(201) });
    expect(longKey.statusCode).toBe(422);
    expect(longKey.json().detail).toContain("idempotency-key");
    expect((await post(owner, g.id, "hi", { "idempotency-key": "k".repeat(200) })).statusCode).toBe(202);
  });

  it("50 parallel posts to one group get 50 distinct consecutive seqs", async () => {
    const owner = await gw.user();
    const g = await gw.group(owner);
    const res = await Promise.all(Array.from({ length: 50 }, (_, i) => post(owner, g.id, `m${i}`)));
    expect(res.map((r) => r.statusCode)).toEqual(Array(50).fill(202));
    const seqs = res.map((r) => r.json().seq as number).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const stored = await gw.pool.query("select seq from messages where group_id = $1 order by seq", [g.id]);
    expect(stored.rows.map((r) => r.seq)).toEqual(seqs);
  });

  it("posts racing the group's deletion get 202 or 404, never a 5xx", async () => {
    const owner = await gw.user();
    const g = await gw.group(owner);
    const posts = Array.from({ length: 30 }, (_, i) => post(owner, g.id, `m${i}`));
    const del = gw.call("DELETE", `/groups/${g.id}`, { token: owner.token });
    const statuses = (await Promise.all(posts)).map((r) => r.statusCode);
    expect((await del).statusCode).toBe(204);
    expect(statuses.filter((s) => s !== 202 && s !== 404)).toEqual([]);
    const left = await gw.pool.query("select count(*)::int as n from messages where group_id = $1", [g.id]);
    expect(left.rows[0].n).toBe(0);
  });

  it("rate-limited per user: 429 with Retry-After and code rate_limited", async () => {
    const limited = await testGateway({ RATE_LIMIT_MESSAGES_PER_MINUTE: "3" });
    try {
      const [a, b] = [await limited.user(), await limited.user()];
      const g = await limited.group(a, undefined, [b]);
      const send = (u: TestUser) =>
        limited.call("POST", `/groups/${g.id}/messages`, { token: u.token, body: { content: "x" } });
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await send(a)).statusCode);
      expect(statuses).toEqual([202, 202, 202, 429]);
      const res = await send(a);
      expect(res.json()).toEqual({ detail: expect.any(String), code: "rate_limited" });
      expect(Number(res.headers["retry-after"])).toBeGreaterThanOrEqual(1);
      expect((await send(b)).statusCode).toBe(202);
    } finally {
      await limited.close();
    }
  });
});

describe("GET /groups/{id}/messages", () => {
  it("pages oldest first by before / after / limit / before_timestamp", async () => {
    const owner = await gw.user();
    const g = await gw.group(owner);
    for (let i = 1; i <= 12; i++) await post(owner, g.id, `m${i}`);
    const seqs = async (query: string) => {
      const res = await gw.call("GET", `/groups/${g.id}/messages${query}`, { token: owner.token });
      expect(res.statusCode).toBe(200);
      return res.json().map((m: { seq: number }) => m.seq);
    };
    expect(await seqs("")).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(await seqs("?limit=3")).toEqual([10, 11, 12]);
    expect(await seqs("?limit=3&before=5")).toEqual([2, 3, 4]);
    expect(await seqs("?limit=3&after=5")).toEqual([6, 7, 8]);
    expect(await seqs("?after=10")).toEqual([11, 12]);
    expect(await seqs("?after=3&before=6")).toEqual([4, 5]);
    expect(await seqs("?before=1")).toEqual([]);
    const all = (await gw.call("GET", `/groups/${g.id}/messages`, { token: owner.token })).json();
    await gw.pool.query(
      "update messages set created_at = created_at - interval '1 hour' where group_id = $1 and seq <= 4",
      [g.id],
    );
    const cut = new Date(Date.parse(all[4].created_at) - 30 * 60_000).toISOString();
    expect(await seqs(`?before_timestamp=${encodeURIComponent(cut)}`)).toEqual([1, 2, 3, 4]);
    expect(await seqs(`?before_timestamp=${encodeURIComponent(cut)}&limit=2`)).toEqual([3, 4]);
    expect(await seqs(`?before_timestamp=${encodeURIComponent(cut.replace("Z", "+00:00"))}`)).toHaveLength(4);
    expect(await seqs("?before_timestamp=2000-01-01")).toEqual([]);
    expect(await seqs("?before_timestamp=2999-01-01T00:00:00")).toHaveLength(12);
  });

  it.each([
    ["limit=0", "query.limit"],
    ["limit=201", "query.limit"],
    ["limit=abc", "query.limit"],
    ["before=-1", "query.before"],
    ["after=1.5", "query.after"],
    // integers are decimal digits only: no hex, binary, exponent, sign, space, fraction or empty value
    ["limit=0x10", "query.limit"],
    ["limit=0b1", "query.limit"],
    ["limit=1e2", "query.limit"],
    ["limit=%205", "query.limit"],
    ["limit=5%20", "query.limit"],
    ["limit=%2B5", "query.limit"],
    ["limit=5.0", "query.limit"],
    ["limit=", "query.limit"],
    ["before=0x10", "query.before"],
    ["before=1e2", "query.before"],
    ["before=", "query.before"],
    ["after=%2B5", "query.after"],
    ["after=-0", "query.after"],
    ["after=99999999999999999999", "query.after"],
    ["before_timestamp=yesterday", "query.before_timestamp"],
    ["cursor=5", "query.cursor"],
  ])("422 for ?%s", async (query, field) => {
    const owner = await gw.user();
    const g = await gw.group(owner);
    const res = await gw.call("GET", `/groups/${g.id}/messages?${query}`, { token: owner.token });
    expect(res.statusCode).toBe(422);
    expect(res.json().detail).toContain(field);
  });
});
