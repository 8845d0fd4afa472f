/**
 * Real Chromium (Debian's, /usr/bin/chromium) driven by playwright-core, against the real stack
 * with the web client's build served by its gateway. One browser per test file; each test opens
 * its own contexts. Nothing here imports vitest: the web bench uses it too.
 */
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { buildWeb, webBuildIsStale } from "../../scripts/lib/web-build.ts";

export const CHROMIUM = "/usr/bin/chromium";
const root = path.resolve(import.meta.dirname, "../..");

/** Builds the client once per run when its sources are newer than its build. */
export function ensureWebBuild(): void {
  if (webBuildIsStale(root)) buildWeb(root);
}

export interface BrowserHandle {
  browser: Browser;
  close(): Promise<void>;
}

/** Chromium, headless; playwright gives it a fresh, temporary profile (user data dir) each launch. */
export async function launchBrowser(): Promise<BrowserHandle> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    browser,
    async close() {
      await browser.close();
    },
  };
}

/** A fresh context (its own storage: one person) with a page, at `baseUrl`. */
export async function newPerson(
  browser: Browser,
  baseUrl: string,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1100, height: 760 } });
  const page = await context.newPage();
  return { context, page };
}

/** Registers through the UI and lands on the group list. */
export async function register(page: Page, email: string, password = "correct horse"): Promise<void> {
  await page.goto("/app/register");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Register" }).click();
  await page.getByRole("heading", { name: "Your groups" }).waitFor();
}

/** Logs in through the UI with a token made by the API (faster than the form for most tests). */
export async function loginAs(page: Page, user: { email: string; token: string }): Promise<void> {
  await page.goto("/app/login");
  await page.evaluate(
    ([token, email]) =>
      localStorage.setItem(
        "synapse.session",
        JSON.stringify({ token, email, expiresAt: Date.now() + 3_600_000 }),
      ),
    [user.token, user.email] as const,
  );
}

/** With SCREENSHOTS=1, keeps a screenshot of the page in docs/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (!process.env.SCREENSHOTS) return;
  const dir = path.join(root, "docs/screenshots");
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`) });
}
