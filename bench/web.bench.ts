import { gzipSync } from "node:zlib";
import {
  createLogger,
  createPool,
  createRedis,
  defaultJobOptions,
  loadConfig,
  ORCHESTRATOR_QUEUE,
  publishFrame,
} from "@synapse/shared";
import { Queue } from "bullmq";
import { buildApp } from "../services/api-gateway/src/app.ts";
import { ensureWebBuild, launchBrowser } from "../test/web/browser.ts";
import { seedMessages } from "../test/web/support.ts";
import { type Bench, type BenchContext, type BenchRow, percentile } from "./support.ts";

/**
 * The browser client in Chromium, served by an in-process gateway: JavaScript of the first view
 * (gzip), a token frame's text reaching the DOM while 5 agents stream 50 tokens/s each (frames
 * published straight to the group's channel, timed in the page from the socket's message event to
 * the MutationObserver that sees the text), and a 10,000-message group painting its newest message.
 */
const AGENTS = 5;
const TOKENS_PER_SECOND = 50;
const STREAM_SECONDS = 6;

/** Runs in the page before the app: stamps each socket frame's arrival, and each token's DOM time. */
function instrument() {
  const w = window as unknown as {
    __arrived: Map<string, number>;
    __shown: Map<string, number>;
  };
  w.__arrived = new Map();
  w.__shown = new Map();
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      // registered before the app's handler: this is when the frame reaches the page
      this.addEventListener("message", (e) => {
        const m = /"delta":"(a\d+t\d+) "/.exec(String(e.data));
        if (m) w.__arrived.set(m[1]!, performance.now());
      });
    }
  };
  const last = new Map<string, number>();
  new MutationObserver((records) => {
    const now = performance.now();
    for (const r of records) {
      const el = (r.target.nodeType === 1 ? r.target : r.target.parentElement) as Element | null;
      const text = el?.closest(".stream-text")?.textContent;
      if (!text) continue;
      const m = /a(\d+)t(\d+) $/.exec(text);
      if (!m) continue;
      const agent = m[1]!;
      const upto = Number(m[2]);
      for (let t = (last.get(agent) ?? -1) + 1; t <= upto; t++) w.__shown.set(`a${agent}t${t}`, now);
      last.set(agent, upto);
    }
  }).observe(document, { subtree: true, childList: true, characterData: true });
}

/** A gateway serving the web build, in this process, on the bench's servers. */
async function servedGateway(ctx: BenchContext) {
  const config = loadConfig(
    {
      NODE_ENV: "production",
      LOG_LEVEL: "warn",
      DATABASE_URL: ctx.databaseUrl,
      REDIS_URL: ctx.redisUrl,
      QUEUE_PREFIX: ctx.prefix(),
      SECRET_KEY: "bench-secret-key-that-is-long-enough-0123456789",
      RATE_LIMIT_AUTH_PER_MINUTE: "100000",
    },
    "/nonexistent-dir-for-dotenv",
  );
  const pool = createPool(ctx.databaseUrl, { max: 10 });
  const [redis, subscriber] = [createRedis(ctx.redisUrl), createRedis(ctx.redisUrl)];
  const bullmq = createRedis(ctx.redisUrl, { bullmq: true });
  const opts = { connection: bullmq, prefix: config.QUEUE_PREFIX, defaultJobOptions };
  const orchestratorQueue = new Queue(ORCHESTRATOR_QUEUE, opts);
  const logger = createLogger(config, "bench-web");
  const app = await buildApp({ config, pool, redis, subscriber, logger, orchestratorQueue });
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  const close = async () => {
    await app.close();
    await orchestratorQueue.close();
    for (const connection of [bullmq, redis, subscriber]) connection.disconnect();
    await pool.end();
  };
  return { url, config, pool, redis, close };
}

const bench: Bench = async (ctx) => {
  ensureWebBuild();
  const { url, config, pool, redis, close } = await servedGateway(ctx);
  const chromium = await launchBrowser();
  try {
    const call = async <T>(method: string, path: string, body: unknown, token?: string): Promise<T> => {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: {
          "content-type": "application/json",
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
      });
      return (await res.json()) as T;
    };
    const email = `bench-${Date.now()}@example.com`;
    const user = await call<{ id: string }>("POST", "/auth/register", { email, password: "correct horse" });
    const { access_token: token } = await call<{ access_token: string }>("POST", "/auth/login", {
      email,
      password: "correct horse",
    });
    const members = Array.from({ length: AGENTS }, (_, i) => ({
      alias: `Agent${i}`,
      provider: "demo",
      model: "demo",
    }));
    const group = await call<{ id: string }>("POST", "/groups", { name: "bench", members }, token);
    const big = await call<{ id: string }>("POST", "/groups", { name: "10k" }, token);
    await seedMessages(pool, big.id, 10_000);
    void user;

    const context = await chromium.browser.newContext({
      baseURL: url,
      viewport: { width: 1100, height: 760 },
    });
    await context.addInitScript(
      ([t, e]) =>
        localStorage.setItem(
          "synapse.session",
          JSON.stringify({ token: t, email: e, expiresAt: Date.now() + 3.6e6 }),
        ),
      [token, email] as const,
    );
    await context.addInitScript(instrument);
    const page = await context.newPage();

    // first view: the login page of a new visitor (scripts as sent, gzip-compressed here)
    const fresh = await chromium.browser.newContext({ baseURL: url });
    const login = await fresh.newPage();
    const bodies: Promise<Buffer>[] = [];
    login.on("response", (r) => {
      if (r.request().resourceType() === "script") bodies.push(r.body());
    });
    await login.goto("/app/login", { waitUntil: "networkidle" });
    const scripts = await Promise.all(bodies);
    await fresh.close();
    const jsGzip = scripts.reduce((n, b) => n + gzipSync(b, { level: 9 }).length, 0) / 1024;

    // 10,000 messages: navigation start to the frame after the newest message is in the DOM
    const openTimes: number[] = [];
    for (let i = 0; i < 5; i++) {
      await page.goto(`/app/groups/${big.id}`);
      // a string: tsx would wrap a function's inner functions in a helper the page lacks
      const ms = await page.evaluate<number>(`new Promise((resolve) => {
        const check = () => document.body.textContent.includes("Seeded message number 10000")
          ? requestAnimationFrame(() => resolve(performance.now()))
          : requestAnimationFrame(check);
        check();
      })`);
      openTimes.push(ms);
    }

    // token latency: 5 agents × 50 tokens/s published to the group's channel
    await page.goto(`/app/groups/${group.id}`);
    await page.locator(".conn-open").waitFor();
    const turnId = crypto.randomUUID();
    const ids = Array.from({ length: AGENTS }, () => crypto.randomUUID());
    const frame = (a: number, t: number) => ({
      type: "token" as const,
      group_id: group.id,
      turn_id: turnId,
      alias: `Agent${a}`,
      message_id: ids[a]!,
      delta: `a${a}t${t} `,
    });
    const ticks = TOKENS_PER_SECOND * STREAM_SECONDS;
    const start = performance.now();
    for (let t = 0; t < ticks; t++) {
      const due = start + (t * 1000) / TOKENS_PER_SECOND;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await Promise.all(ids.map((_, a) => publishFrame(redis, config.QUEUE_PREFIX, group.id, frame(a, t))));
    }
    await page.waitForFunction(
      (n) => (window as unknown as { __shown: Map<string, number> }).__shown.size >= n,
      AGENTS * ticks,
      { timeout: 20_000 },
    );
    const delays = await page.evaluate(() => {
      const w = window as unknown as { __arrived: Map<string, number>; __shown: Map<string, number> };
      return [...w.__arrived].map(([k, at]) => (w.__shown.get(k) ?? Number.NaN) - at);
    });
    const p50 = percentile(delays, 50);
    const p95 = percentile(delays, 95);
    await context.close();
    const rows: BenchRow[] = [
      { name: "JavaScript of the first view (gzip)", value: jsGzip, unit: "KiB", note: "(target ≤ 200 KB)" },
      {
        name: `token frame → its text in the DOM, ${AGENTS} agents × ${TOKENS_PER_SECOND} tokens/s, p95`,
        value: p95,
        unit: "ms",
        note: `(p50 ${p50.toFixed(2)} ms, ${delays.length} frames; target ≤ 50 ms)`,
      },
      {
        name: "open a 10,000-message group: newest message painted after navigation, median of 5",
        value: percentile(openTimes, 50),
        unit: "ms",
        note: `(max ${Math.max(...openTimes).toFixed(0)} ms; target ≤ 1000 ms)`,
      },
    ];
    return rows;
  } finally {
    await chromium.close();
    await close();
  }
};

export default bench;
