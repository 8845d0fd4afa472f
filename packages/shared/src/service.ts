import { type Config, loadConfig, orExit, requireUrls } from "./config.ts";
import type { Logger } from "./logger.ts";

/**
 * The configuration of a service process, with the database and Redis URLs it cannot run
 * without. A bad or missing setting prints one line naming it and exits with code 2.
 */
export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env): {
  config: Config;
  databaseUrl: string;
  redisUrl: string;
} {
  return orExit(() => {
    const config = loadConfig(env);
    return { config, ...requireUrls(config) };
  });
}

/**
 * Stops a service cleanly on SIGINT or SIGTERM: `stop` drains its work and closes its clients, then
 * the process exits 0. A second signal, a failing `stop`, or one that outlasts the deadline (a
 * drain can wait forever on a server that is gone) exits 1 at once; unfinished jobs are retried.
 */
export function stopOnSignals(
  logger: Logger,
  stop: () => Promise<void>,
  opts: { deadlineMs?: number } = {},
): void {
  const deadlineMs = opts.deadlineMs ?? 15_000;
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, "second signal: exiting without draining");
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, "stopping: draining work");
    setTimeout(() => {
      logger.error({ ms: deadlineMs }, "drain did not finish in time; exiting");
      process.exit(1);
    }, deadlineMs).unref();
    stop().then(
      () => {
        logger.info("stopped");
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, "error while stopping");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}
