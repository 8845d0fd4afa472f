import type { Browser } from "playwright-core";
import { afterAll, beforeAll, beforeEach } from "vitest";
import { type Stack, startStack } from "../e2e/stack.ts";
import { type BrowserHandle, ensureWebBuild, launchBrowser } from "./browser.ts";

/**
 * One stack and one browser for the test file: started before its first test, closed after its
 * last; the fake LLM server is reset before each test.
 */
export function useStackAndBrowser(): { stack: Stack; browser: Browser } {
  const env = {} as { stack: Stack; browser: Browser };
  let stack: Stack | undefined;
  let handle: BrowserHandle | undefined;
  beforeAll(async () => {
    ensureWebBuild();
    [stack, handle] = await Promise.all([startStack(), launchBrowser()]);
    env.stack = stack;
    env.browser = handle.browser;
  }, 120_000);
  afterAll(async () => {
    await handle?.close();
    await stack?.close();
  });
  beforeEach(() => stack?.fake.reset());
  return env;
}
