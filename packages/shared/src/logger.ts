import pino, { type Logger } from "pino";
import type { Config } from "./config.ts";

export type { Logger };

/** Paths never written to a log, whatever the level. */
const REDACT = [
  "password",
  "*.password",
  "token",
  "*.token",
  "access_token",
  "*.access_token",
  "authorization",
  "*.authorization",
  "req.headers.authorization",
  "req.headers.cookie",
  "headers.authorization",
  "*.apiKey",
  "*.api_key",
  "SECRET_KEY",
  "*.SECRET_KEY",
  "*_API_KEY",
  "*.*_API_KEY",
];

/**
 * A pino logger for one process. JSON lines, with a readable form on a terminal in development.
 * @param service - written as `service` on every line
 */
export function createLogger(
  config: Pick<Config, "LOG_LEVEL" | "NODE_ENV" | "LOG_FORMAT">,
  service: string,
): Logger {
  const pretty =
    config.LOG_FORMAT === "pretty" ||
    (config.LOG_FORMAT === "auto" && config.NODE_ENV === "development" && process.stdout.isTTY);
  return pino({
    level: config.LOG_LEVEL,
    base: { service },
    redact: { paths: REDACT, censor: "[redacted]" },
    ...(pretty
      ? {
          transport: {
            target: "pino-pretty",
            options: { translateTime: "HH:MM:ss.l", ignore: "pid,hostname" },
          },
        }
      : {}),
  });
}

/** Strips credentials from a URL so it can be printed. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "[unparseable url]";
  }
}
