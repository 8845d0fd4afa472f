import { type ChildProcess, spawn } from "node:child_process";
import type { Config } from "@synapse/shared";
import { type ServiceName, serviceNodeArgs } from "../../scripts/lib/service-process.ts";

/**
 * A test's TypeScript script run by Node in a child process, with a service's Node options and the
 * run's database, Redis, queue prefix and secret from `config` (`env` adds to them): a second
 * machine, or a process a test can kill. Its stdout is piped and it has an IPC channel.
 */
export function spawnScript(
  service: ServiceName,
  script: string,
  config: Config,
  env: Record<string, string> = {},
  extraArgs: string[] = [],
): ChildProcess {
  return spawn(process.execPath, [...serviceNodeArgs(service), ...extraArgs, script], {
    env: {
      ...process.env,
      NODE_ENV: "test",
      LOG_LEVEL: "silent",
      DATABASE_URL: config.DATABASE_URL,
      REDIS_URL: config.REDIS_URL,
      QUEUE_PREFIX: config.QUEUE_PREFIX,
      SECRET_KEY: config.SECRET_KEY,
      ...env,
    },
    stdio: ["ignore", "pipe", "inherit", "ipc"],
  });
}

/** Resolves with the first match of `pattern` in the child's stdout; rejects if it exits first. */
export function stdoutMatch(child: ChildProcess, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const m = pattern.exec(out);
      if (m) resolve(m);
    });
    child.once("exit", (code, signal) => reject(new Error(`child process exited (${code ?? signal})`)));
  });
}

/** Sends `signal` to the child and waits for it to exit (at once if it has already). */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill(signal);
  await exited;
}
