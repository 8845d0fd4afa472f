import { AxeBuilder } from "@axe-core/playwright";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { insertAgents, insertGroup } from "../support/seed.ts";
import { loginAs, newPerson, register, screenshot } from "./browser.ts";
import { useStackAndBrowser } from "./harness.ts";
import { agentsAnswer, seedMessages, uniqueEmail } from "./support.ts";

const env = useStackAndBrowser();

/** axe's serious and critical findings on the page as it is now. */
async function seriousViolations(page: Page): Promise<string[]> {
  const { violations } = await new AxeBuilder({ page }).analyze();
  return violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

async function send(page: Page, text: string): Promise<void> {
  await page.getByLabel("Write a message").fill(text);
  await page.getByLabel("Write a message").press("Enter");
}

describe("the app in a browser", { timeout: 90_000 }, () => {
  it("registers, sets up a group with two agents, logs out and back in; axe finds nothing serious", async () => {
    const { page, context } = await newPerson(env.browser, env.stack.url);
    await page.goto("/");
    await page.waitForURL("**/app/login");
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "login");
    const email = uniqueEmail();
    await register(page, email);
    await page.getByLabel("New group name").fill("Research desk");
    await page.getByRole("button", { name: "Create group" }).click();
    await page.getByRole("heading", { name: "Research desk: settings" }).waitFor();
    await page.getByText("Orchestrator · protected").waitFor();
    expect(await page.getByRole("button", { name: "Remove Orchestrator" }).count()).toBe(0);
    const add = page.getByRole("form", { name: "Add an agent" });
    for (const alias of ["Alpha", "Beta"]) {
      await add.getByLabel("Alias").fill(alias);
      await add.getByLabel("Role prompt").fill(`You are ${alias}.`);
      await add.getByLabel("Provider").selectOption("openai");
      await add.getByLabel("Model").fill("m");
      if (alias === "Alpha") await add.getByLabel("calculator").check();
      await add.getByRole("button", { name: "Add agent" }).click();
      await page.getByRole("button", { name: `Edit ${alias}` }).waitFor();
    }
    await page.getByText("tools: calculator").waitFor();
    await screenshot(page, "settings");
    await page.getByRole("link", { name: "Synapse" }).click();
    await page.getByRole("link", { name: "Research desk", exact: true }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "groups");
    // the session survives a reload; logging out ends it
    await page.reload();
    await page.getByRole("link", { name: "Research desk", exact: true }).waitFor();
    await page.getByRole("button", { name: "Log out" }).click();
    await page.waitForURL("**/app/login");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("correct horse");
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("link", { name: "Research desk", exact: true }).click();
    await page.locator(".conn-open").waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await context.close();
  });

  it("renames and deletes a group, the deletion after a confirmation", async () => {
    const user = await env.stack.user();
    await env.stack.group(user.token, "Old name", []);
    const { page, context } = await newPerson(env.browser, env.stack.url);
    await loginAs(page, user);
    await page.goto("/app/");
    await page.getByRole("button", { name: "Rename Old name" }).click();
    await page.getByLabel("Name of Old name").fill("New name");
    await page.getByLabel("Name of Old name").press("Enter");
    await page.getByRole("link", { name: "New name", exact: true }).waitFor();
    await page.getByRole("button", { name: "Delete New name" }).click();
    await page.getByRole("button", { name: "Yes, delete" }).press("Enter");
    await page.getByText("No groups yet").waitFor();
    await context.close();
  });

  it("an expired or revoked token sends the person back to log in, with a message", async () => {
    const { page, context } = await newPerson(env.browser, env.stack.url);
    await loginAs(page, { email: "gone@example.com", token: "not-a-valid-token" });
    await page.goto("/app/");
    await page.waitForURL("**/app/login");
    await page.getByText("Your session expired").waitFor();
    await context.close();
  });

  it("renders HTML and javascript: links in messages and model output inert", async () => {
    const evil =
      'Look <img src=x onerror="window.__xss=1"> and [click](javascript:window.__xss=2) <script>window.__xss=3</script>';
    env.stack.fake.respond(agentsAnswer(() => ({ text: `echo: ${evil}` })));
    const user = await env.stack.user();
    const group = await env.stack.group(user.token, "xss", ["Alpha"]);
    const { page, context } = await newPerson(env.browser, env.stack.url);
    await loginAs(page, user);
    await page.goto(`/app/groups/${group.id}`);
    await send(page, `@[Alpha] ${evil}`);
    await page.locator(".msg-agent:not(.streaming)", { hasText: "echo: Look" }).waitFor();
    expect(await page.locator(".md img, .md script").count()).toBe(0);
    expect(await page.locator('a[href^="javascript"]').count()).toBe(0);
    expect(await page.locator(".md", { hasText: "<img src=x" }).count()).toBe(2); // shown as text
    await page.locator(".md .dead-link", { hasText: "click" }).first().click();
    expect(await page.evaluate(() => (window as { __xss?: number }).__xss)).toBeUndefined();
    await send(page, "[safe](https://example.com) | a | b |\n|---|---|\n| 1 | 2 |");
    await send(page, "```js\nconst answer = 42; // <b>not bold</b>\n```");
    await page.locator(".code pre code .hljs-keyword", { hasText: "const" }).waitFor();
    expect(await page.locator(".code pre code b").count()).toBe(0);
    await page.locator(".code .copy").last().waitFor();
    const link = page.getByRole("link", { name: "safe" });
    expect(await link.getAttribute("rel")).toBe("noopener noreferrer");
    expect(await link.getAttribute("target")).toBe("_blank");
    await context.close();
  });

  it("@ opens the agents; arrows, Enter and Escape work from the keyboard", async () => {
    const user = await env.stack.user();
    const group = await env.stack.group(user.token, "mentions", ["Alpha", "Albert", "Beta"]);
    const { page, context } = await newPerson(env.browser, env.stack.url);
    await loginAs(page, user);
    await page.goto(`/app/groups/${group.id}`);
    const box = page.getByLabel("Write a message");
    await box.click();
    await box.pressSequentially("hi @Al");
    const list = page.getByRole("listbox", { name: "Agents" });
    await list.waitFor();
    const options = await list.getByRole("option").allTextContents();
    expect([...options].sort()).toEqual(["@Albert", "@Alpha"]);
    await box.press("ArrowDown");
    await box.press("Enter");
    const second = options[1]!.slice(1);
    expect(await box.inputValue()).toBe(`hi @[${second}] `);
    await box.pressSequentially("and @");
    await list.waitFor();
    await box.press("Escape");
    expect(await list.count()).toBe(0);
    await box.pressSequentially("B");
    await box.press("Tab");
    expect(await box.inputValue()).toBe(`hi @[${second}] and @[Beta] `);
    await context.close();
  });

  it("opens a group of 10,000 messages on its newest page and pages back on scrolling up", async () => {
    const user = await env.stack.user();
    const groupId = await insertGroup(env.stack.pool, { ownerId: user.id, name: "long history" });
    await insertAgents(env.stack.pool, groupId, [{ alias: "Orchestrator" }, { alias: "Alpha" }]);
    await seedMessages(env.stack.pool, groupId, 10_000);
    const { page, context } = await newPerson(env.browser, env.stack.url);
    await loginAs(page, user);
    await page.goto(`/app/groups/${groupId}`);
    await page.getByText("Seeded message number 10000").waitFor();
    expect(await page.locator("li[data-seq]").count()).toBeLessThanOrEqual(50);
    for (let i = 0; i < 3; i++) await page.locator(".messages").evaluate((el) => el.scrollTo(0, 0));
    await page.getByText("Seeded message number 9950", { exact: true }).waitFor();
    await page.locator(".messages").evaluate((el) => el.scrollTo(0, 0));
    await page.getByText("Seeded message number 9900", { exact: true }).waitFor();
    await page.getByRole("button", { name: "Jump to latest" }).click();
    await page.getByText("Seeded message number 10000").isVisible();
    await context.close();
  });
});
