import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parse as parseDotenv } from "dotenv";
import { z } from "zod";

/** Thrown when a setting is missing or malformed; its message is the one line printed before exit. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

const csv = z
  .string()
  .transform((s) =>
    s
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.string()));

const flag = z.enum(["true", "false"], "must be true or false").transform((v) => v === "true");
const optionalUrl = z.url().optional();
const optionalKey = z.string().min(1).optional();
const intIn = (min: number, max: number) =>
  z.coerce
    .number(`must be an integer from ${min} to ${max}`)
    .int(`must be an integer from ${min} to ${max}`)
    .min(min, `must be an integer from ${min} to ${max}`)
    .max(max, `must be an integer from ${min} to ${max}`);

const postgresUrl = z
  .string()
  .refine((s) => /^postgres(ql)?:\/\//.test(s) && URL.canParse(s), "must be a postgres:// URL");
const redisUrl = z
  .string()
  .refine((s) => /^rediss?:\/\//.test(s) && URL.canParse(s), "must be a redis:// URL");

/** Named OpenAI-compatible endpoints: `OPENAI_ENDPOINTS=ollama=http://127.0.0.1:11434/v1,vllm=http://...`. */
const endpoints = z.string().transform((s, ctx) => {
  const out: Record<string, string> = {};
  for (const part of s.split(",").map((p) => p.trim())) {
    if (!part) continue;
    const eq = part.indexOf("=");
    const name = part.slice(0, eq).trim();
    const url = part.slice(eq + 1).trim();
    if (eq < 1 || !/^[a-z][a-z0-9_-]{0,30}$/.test(name) || !URL.canParse(url)) {
      ctx.addIssue({ code: "custom", message: `bad entry "${part}" (want name=url)` });
      return z.NEVER;
    }
    out[name] = url;
  }
  return out;
});

const schema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  DATABASE_URL: postgresUrl.optional(),
  REDIS_URL: redisUrl.optional(),
  SECRET_KEY: z.string().optional(),
  ALGORITHM: z.literal("HS256").default("HS256"),
  ACCESS_TOKEN_EXPIRE_MINUTES: intIn(1, 525_600).default(1440),
  OPENAI_API_KEY: optionalKey,
  OPENAI_BASE_URL: optionalUrl,
  OPENAI_ENDPOINTS: endpoints.default({}),
  CLAUDE_API_KEY: optionalKey,
  ANTHROPIC_API_KEY: optionalKey,
  ANTHROPIC_BASE_URL: optionalUrl,
  GEMINI_API_KEY: optionalKey,
  GEMINI_BASE_URL: optionalUrl,
  TAVILY_API_KEY: optionalKey,
  TAVILY_BASE_URL: optionalUrl,
  /** LangSmith tracing, read by LangChain itself; `LANGCHAIN_TRACING_V2` is its older name. */
  LANGSMITH_TRACING: flag.optional(),
  LANGCHAIN_TRACING_V2: flag.optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** `auto`: readable on a terminal in development, JSON lines otherwise. */
  LOG_FORMAT: z.enum(["auto", "json", "pretty"]).default("auto"),
  PORT: intIn(0, 65_535).default(8000),
  HOST: z.string().min(1).default("127.0.0.1"),
  CORS_ORIGINS: csv.default([]),
  /**
   * Behind a load balancer: which proxies to believe for the client address (per-IP rate limits).
   * `false` (default), `true` (any), a hop count, or comma-separated addresses/CIDRs.
   */
  TRUST_PROXY: z
    .string()
    .transform((s): boolean | number | string => {
      if (s === "true") return true;
      if (s === "false") return false;
      return /^\d+$/.test(s) ? Number(s) : s;
    })
    .default(false),
  ORCHESTRATOR_PROVIDER: z.string().min(1).optional(),
  ORCHESTRATOR_MODEL: z.string().min(1).optional(),
  MAX_STEPS_PER_TURN: intIn(1, 1000).default(20),
  WORKER_CONCURRENCY: intIn(1, 512).default(8),
  ORCHESTRATOR_CONCURRENCY: intIn(1, 512).default(16),
  CONTEXT_MESSAGES: intIn(1, 1000).default(40),
  LLM_TIMEOUT_MS: intIn(1000, 600_000).default(120_000),
  LLM_MAX_RETRIES: intIn(0, 10).default(3),
  /** Pause of the offline `demo` provider between streamed words, so its replies read as streaming. */
  DEMO_WORD_DELAY_MS: intIn(0, 10_000).default(30),
  TURN_STALL_TIMEOUT_MS: intIn(1000, 86_400_000).default(600_000),
  RATE_LIMIT_MESSAGES_PER_MINUTE: intIn(1, 100_000).default(120),
  RATE_LIMIT_AUTH_PER_MINUTE: intIn(1, 100_000).default(30),
  BODY_LIMIT_BYTES: intIn(1024, 50_000_000).default(1_048_576),
  WS_SEND_BUFFER_BYTES: intIn(1024, 1_000_000_000).default(4_194_304),
  /**
   * Finished jobs each queue keeps (set the same on every process). At least 100: a failed job is
   * read back right after it fails to end its turn, and ids of recent jobs deduplicate retried adds.
   */
  QUEUE_KEEP_COMPLETED: intIn(100, 1_000_000).default(1000),
  QUEUE_KEEP_FAILED: intIn(100, 1_000_000).default(5000),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default("synapse"),
  SYNAPSE_DATA_DIR: z.string().min(1).default("./.synapse"),
  /** The orchestrator and the worker serve `/metrics` on this port; unset: not served. */
  METRICS_PORT: intIn(1, 65_535).optional(),
  /** OTLP/HTTP collector (e.g. `http://otel-collector:4318`); unset: no traces. */
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalUrl,
  /** LLM replies and tool arguments and output on spans; off by default (they may hold personal data). */
  OTEL_CAPTURE_CONTENT: flag.default(false),
});

type Raw = z.infer<typeof schema>;

/** Every variable the configuration reads (deployment files are checked against it). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(schema.shape);

/** The typed configuration of every Synapse process. Built once by {@link loadConfig}. */
export interface Config
  extends Omit<
    Raw,
    "SECRET_KEY" | "CLAUDE_API_KEY" | "ANTHROPIC_API_KEY" | "LANGSMITH_TRACING" | "LANGCHAIN_TRACING_V2"
  > {
  SECRET_KEY: string;
  /** `LANGSMITH_TRACING`, or `LANGCHAIN_TRACING_V2`: LangChain sends traces to LangSmith. */
  LANGSMITH_TRACING: boolean;
  /** `CLAUDE_API_KEY`, or `ANTHROPIC_API_KEY` when the former is unset. */
  CLAUDE_API_KEY: string | undefined;
  /** Absolute path of {@link Raw.SYNAPSE_DATA_DIR}. */
  dataDir: string;
}

function readDotenv(cwd: string): Record<string, string> {
  const file = path.join(cwd, ".env");
  return existsSync(file) ? parseDotenv(readFileSync(file)) : {};
}

/** In development a random key is generated once and kept in the data dir, so tokens survive restarts. */
function developmentSecret(dataDir: string): string {
  const file = path.join(dataDir, "secret_key");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(48).toString("base64url");
  try {
    writeFileSync(file, key, { mode: 0o600, flag: "wx" });
    return key;
  } catch {
    // another process of the stack wrote it first: use theirs
    return readFileSync(file, "utf8").trim();
  }
}

/**
 * Parses the environment (process variables win over a `.env` file in `cwd`).
 * @throws ConfigError naming the first bad variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const merged: Record<string, string | undefined> = { ...readDotenv(cwd), ...env };
  // empty strings mean "unset", as a blank line in .env would
  for (const key of Object.keys(merged)) if (merged[key] === "") delete merged[key];
  const parsed = schema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? "config");
    throw new ConfigError(`invalid setting ${name}: ${issue.message}`);
  }
  const raw = parsed.data;
  const dataDir = path.resolve(cwd, raw.SYNAPSE_DATA_DIR);
  let secret = raw.SECRET_KEY;
  if (raw.NODE_ENV === "production") {
    if (!secret || Buffer.byteLength(secret) < 32)
      throw new ConfigError(
        "invalid setting SECRET_KEY: required, at least 32 bytes, when NODE_ENV=production",
      );
  } else if (!secret) {
    secret = developmentSecret(dataDir);
  } else if (Buffer.byteLength(secret) < 16) {
    throw new ConfigError("invalid setting SECRET_KEY: at least 16 bytes");
  }
  if (raw.CORS_ORIGINS.includes("*"))
    throw new ConfigError(
      "invalid setting CORS_ORIGINS: '*' is not allowed (credentials are sent); list origins",
    );
  const { ANTHROPIC_API_KEY, CLAUDE_API_KEY, LANGSMITH_TRACING, LANGCHAIN_TRACING_V2, ...rest } = raw;
  return {
    ...rest,
    SECRET_KEY: secret,
    CLAUDE_API_KEY: CLAUDE_API_KEY ?? ANTHROPIC_API_KEY,
    LANGSMITH_TRACING: LANGSMITH_TRACING ?? LANGCHAIN_TRACING_V2 ?? false,
    dataDir,
  };
}

/** Runs `load`, printing the one-line reason and exiting with code 2 on a bad setting. */
export function orExit<T>(load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`synapse: ${err.message}\n`);
    process.exit(2);
  }
}

/** Runs `loadConfig`, printing the one-line reason and exiting non-zero on a bad setting. */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): Config {
  return orExit(() => loadConfig(env));
}

/** The database and Redis URLs, which a service needs (the launcher sets them when it starts local servers). */
export function requireUrls(config: Config): { databaseUrl: string; redisUrl: string } {
  if (!config.DATABASE_URL)
    throw new ConfigError("invalid setting DATABASE_URL: required (or run `npm start`)");
  if (!config.REDIS_URL) throw new ConfigError("invalid setting REDIS_URL: required (or run `npm start`)");
  return { databaseUrl: config.DATABASE_URL, redisUrl: config.REDIS_URL };
}
