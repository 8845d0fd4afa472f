import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import type { Stack } from "../e2e/stack.ts";
import { loginAs, newPerson, screenshot } from "./browser.ts";
import { useStackAndBrowser } from "./harness.ts";
import { agentOf, agentsAnswer, words } from "./support.ts";

const env = useStackAndBrowser();

/** A user with a group of Alpha and Beta, and a page open on its chat. */
async function openChat(): Promise<{
  page: Page;
  groupId: string;
  user: Awaited<ReturnType<Stack["user"]>>;
}> {
  const user = await env.stack.user();
  const group = await env.stack.group(user.token, "chat test", ["Alpha", "Beta"]);
  const { page } = await newPerson(env.browser, env.stack.url);
  await loginAs(page, user);
  await page.goto(`/app/groups/${group.id}`);
  await page.locator(".conn-open").waitFor();
  return { page, groupId: group.id, user };
}

/** Another user, added to the group by its owner, with a page open on its chat. */
async function secondPerson(groupId: string, ownerToken: string) {
  const other = await env.stack.user();
  await env.stack.api("POST", `/groups/${groupId}/participants`, {
    token: ownerToken,
    body: { email: other.email },
  });
  const { page } = await newPerson(env.browser, env.stack.url);
  await loginAs(page, other);
  await page.goto(`/app/groups/${groupId}`);
  return { page, other };
}

async function send(page: Page, text: string): Promise<void> {
  await page.getByLabel("Write a message").fill(text);
  await page.getByLabel("Write a message").press("Enter");
}

/** Ids of the messages and streams shown, in order. */
const shownIds = (page: Page) =>
  page
    .locator(".message-ol > li[data-message-id]")
    .evaluateAll((els) => els.map((e) => e.getAttribute("data-message-id")));

/** Ids of the group's stored messages a page shows (tool results sit inside their call). */
async function storedIds(groupId: string, token: string): Promise<string[]> {
  const r = await env.stack.api<{ id: string; sender_type: string }[]>(
    "GET",
    `/groups/${groupId}/messages?limit=200`,
    {
      token,
    },
  );
  return r.body.filter((m) => m.sender_type === "user" || m.sender_type === "agent").map((m) => m.id);
}

describe("the chat in a browser", { timeout: 90_000 }, () => {
  it("streams two agents' tokens into their own bubbles before the final messages, then ends the turn", async () => {
    env.stack.fake.respond(
      agentsAnswer((alias) => ({ text: `${alias} says ${words(12)}`, chunkDelayMs: 80 })),
    );
    const { page } = await openChat();
    await send(page, "@[Alpha] @[Beta] hello both");
    const alpha = page.locator(".streaming", { hasText: "Alpha says" });
    const beta = page.locator(".streaming", { hasText: "Beta says" });
    await alpha.waitFor();
    await beta.waitFor();
    expect(await page.locator(".streaming").count()).toBe(2);
    await screenshot(page, "chat-streaming");
    await page.locator(".msg-agent:not(.streaming)", { hasText: `Alpha says ${words(12)}` }).waitFor();
    await page.locator(".msg-agent:not(.streaming)", { hasText: `Beta says ${words(12)}` }).waitFor();
    await page.getByText(/Turn completed · \d+ tokens in/).waitFor();
    expect(await page.locator(".streaming").count()).toBe(0);
    await screenshot(page, "chat");
    await page.context().close();
  });

  it("shows a tool call as one collapsed line that opens to its arguments and result", async () => {
    env.stack.fake.respond((req) => {
      const who = agentOf(req.system);
      if (who === "Orchestrator") return { text: "TASK_COMPLETE" };
      if (req.messages.at(-1)?.role === "tool") return { text: "It is 42." };
      return { toolCalls: [{ name: "calculator", args: { expression: "6*7" } }] };
    });
    const user = await env.stack.user();
    const created = await env.stack.api<{ id: string }>("POST", "/groups", {
      token: user.token,
      body: {
        name: "tools",
        members: [{ alias: "Calc", role_prompt: "", provider: "openai", model: "m", tools: ["calculator"] }],
      },
    });
    const { page } = await newPerson(env.browser, env.stack.url);
    await loginAs(page, user);
    await page.goto(`/app/groups/${created.body.id}`);
    await send(page, "@[Calc] what is 6*7?");
    const line = page.locator("details.tool-call", { hasText: "calculator" });
    await line.locator(".status-done").waitFor();
    expect(await line.getAttribute("open")).toBeNull();
    await expect.poll(() => line.locator(".tool-body").isVisible()).toBe(false);
    await line.locator("summary").click();
    await line.locator(".tool-body", { hasText: '"expression": "6*7"' }).waitFor();
    await line.locator(".tool-body pre", { hasText: /^42$/ }).waitFor();
    await page.getByText("It is 42.").waitFor();
    await page.context().close();
  });

  it("Stop cancels a slow reply: cancelling… until the turn ends, then who stopped it", async () => {
    env.stack.fake.respond(agentsAnswer(() => ({ text: words(200), chunkDelayMs: 100 })));
    const { page } = await openChat();
    await send(page, "@[Alpha] take your time");
    await page.locator(".streaming", { hasText: "w2" }).waitFor();
    await page.getByRole("button", { name: "Stop" }).click();
    await page.getByText("Turn stopped by you").waitFor();
    expect(await page.locator(".streaming").count()).toBe(0);
    expect(await page.getByRole("button", { name: "Stop" }).count()).toBe(0);
    await page.context().close();
  });

  it("everyone in the group sees who stopped a turn, also after a reload", async () => {
    env.stack.fake.respond(agentsAnswer(() => ({ text: words(200), chunkDelayMs: 100 })));
    const { page: a, groupId, user } = await openChat();
    const { page: b, other } = await secondPerson(groupId, user.token);
    await send(a, "@[Alpha] take your time");
    await b.locator(".streaming", { hasText: "w2" }).waitFor();
    await b.getByRole("button", { name: "Stop" }).click();
    await b.getByText("Turn stopped by you").waitFor();
    await a.getByText(`Turn stopped by ${other.email}`).waitFor();
    await a.reload();
    await a.getByText(`Turn stopped by ${other.email}`).waitFor();
    await a.context().close();
    await b.context().close();
  });

  it("a message written while the one before is still posting is sent after it, not lost", async () => {
    env.stack.fake.respond(agentsAnswer(() => ({ text: "noted" })));
    const { page, groupId, user } = await openChat();
    let held = false;
    await page.route(`**/groups/${groupId}/messages`, async (route) => {
      if (route.request().method() === "POST" && !held) {
        held = true; // the first post takes a while: the next message is written meanwhile
        await new Promise((r) => setTimeout(r, 1000));
      }
      await route.continue();
    });
    await send(page, "first thought");
    await send(page, "second thought");
    await page.locator(".msg-user", { hasText: "second thought" }).waitFor();
    expect(await page.getByLabel("Write a message").inputValue()).toBe("");
    const r = await env.stack.api<{ content: string; sender_type: string }[]>(
      "GET",
      `/groups/${groupId}/messages?limit=50`,
      { token: user.token },
    );
    const mine = r.body.filter((m) => m.sender_type === "user").map((m) => m.content);
    expect(mine).toEqual(["first thought", "second thought"]);
    await page.context().close();
  });

  it("messages whose posts fail come back into the box, in order, and none is sent out of turn", async () => {
    const { page, groupId, user } = await openChat();
    await page.route(`**/groups/${groupId}/messages`, async (route) => {
      if (route.request().method() !== "POST") return route.continue();
      await new Promise((r) => setTimeout(r, 500)); // the next message is written meanwhile
      await route.fulfill({
        status: 503,
        contentType: "application/json",
        body: JSON.stringify({ detail: "try later", code: "unavailable" }),
      });
    });
    await send(page, "first thought");
    await send(page, "second thought");
    const box = page.getByLabel("Write a message");
    await expect.poll(() => box.inputValue()).toBe("first thought\n\nsecond thought");
    const r = await env.stack.api<{ sender_type: string }[]>("GET", `/groups/${groupId}/messages?limit=50`, {
      token: user.token,
    });
    expect(r.body.filter((m) => m.sender_type === "user")).toEqual([]);
    await page.context().close();
  });

  it("two people in one group see each other's messages and one copy of every agent message", async () => {
    env.stack.fake.respond(agentsAnswer((alias) => ({ text: `${alias}: ${words(8)}`, chunkDelayMs: 30 })));
    const { page: a, groupId, user } = await openChat();
    const { page: b } = await secondPerson(groupId, user.token);
    await b.locator(".conn-open").waitFor();
    await send(a, "@[Alpha] from A");
    await b.getByText("from A").waitFor();
    await b.getByText("Turn completed").waitFor();
    await send(b, "@[Beta] from B");
    await a.getByText("from B").waitFor();
    for (const p of [a, b])
      await p.locator(".msg-agent:not(.streaming)", { hasText: `Beta: ${words(8)}` }).waitFor();
    const stored = await storedIds(groupId, user.token);
    for (const p of [a, b]) await expect.poll(() => shownIds(p)).toEqual(stored);
    await a.context().close();
    await b.context().close();
  });

  it("offline in the middle of a stream, then online: nothing missing, nothing doubled", async () => {
    env.stack.fake.respond(agentsAnswer((alias) => ({ text: `${alias} ${words(40)}`, chunkDelayMs: 50 })));
    const { page, groupId, user } = await openChat();
    await send(page, "@[Alpha] @[Beta] go");
    await page.locator(".streaming", { hasText: "w3" }).first().waitFor();
    await page.context().setOffline(true);
    await page.locator(".conn-reconnecting").waitFor();
    await new Promise((r) => setTimeout(r, 1500));
    await page.context().setOffline(false);
    await page.locator(".conn-open").waitFor({ timeout: 20_000 });
    await page.getByText("Turn completed").waitFor({ timeout: 20_000 });
    const stored = await storedIds(groupId, user.token);
    expect(stored).toHaveLength(4); // the question, Alpha, Beta, the Orchestrator
    await expect.poll(() => shownIds(page)).toEqual(stored);
    await page.locator(".msg-agent", { hasText: `Alpha ${words(40)}` }).waitFor();
    await page.context().close();
  });

  it("a reload mid-turn shows the history and the rest of the turn live, from its first word", async () => {
    env.stack.fake.respond(agentsAnswer(() => ({ text: words(150), chunkDelayMs: 60 })));
    const { page, groupId, user } = await openChat();
    await send(page, "@[Alpha] long one");
    await page.locator(".streaming", { hasText: "w5" }).waitFor();
    await page.reload();
    await page.getByText("long one").waitFor();
    // the partial frame gives the text so far: the bubble starts at the first word, not mid-stream
    const bubble = page.locator(".streaming .stream-text");
    await bubble.waitFor();
    expect(await bubble.textContent()).toMatch(/^w1 w2 /);
    await page.locator(".msg-agent:not(.streaming)", { hasText: words(150) }).waitFor();
    await page.getByText("Turn completed").waitFor();
    await expect.poll(() => shownIds(page)).toEqual(await storedIds(groupId, user.token));
    await page.context().close();
  });
});
