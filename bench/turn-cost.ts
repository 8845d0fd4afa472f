import { readdirSync, readFileSync } from "node:fs";
import { median, startBenchServices } from "./support.ts";
import { startTurnStack } from "./turn-stack.ts";

/**
 * `npm run bench:cost [turns]`: what one 3-step turn costs each process, over N sequential turns
 * (default 300, after 50 to warm up) through the same stack as the turn bench: CPU time of the
 * orchestrator, the execution worker, PostgreSQL (all its processes), Redis and this process (the
 * gateway's part and the fake LLM), Redis commands (Lua calls' inner commands included) and
 * PostgreSQL transactions. These move far less with the VM's speed than latencies do: compare
 * changes with them. Linux only (reads /proc).
 */
const turns = Number(process.argv[2] ?? 300);
const TICK_MS = 10; // USER_HZ is 100 on Linux

/**
 * [ppid, user + system CPU ms, the same of its children that have exited] of a live process, from
 * /proc/<pid>/stat.
 */
function stat(pid: number): [number, number, number] | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return [
      Number(fields[1]),
      (Number(fields[11]) + Number(fields[12])) * TICK_MS,
      (Number(fields[13]) + Number(fields[14])) * TICK_MS,
    ];
  } catch {
    return undefined; // gone
  }
}

/**
 * CPU ms of `pid` and, with `children`, of its children (PostgreSQL's backends and workers): the
 * live ones, and those that exited (a backend or autovacuum worker that ends during the figures
 * takes its CPU with it from the live sum; the parent's account of its reaped children keeps it).
 */
function cpuMs(pid: number | undefined, children = false): number {
  if (pid === undefined) return Number.NaN;
  const own = stat(pid);
  let total = (own?.[1] ?? 0) + (children ? (own?.[2] ?? 0) : 0);
  if (children)
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      const s = stat(Number(entry));
      if (s && s[0] === pid) total += s[1];
    }
  return total;
}

const services = await startBenchServices();
const stack = await startTurnStack(services);
try {
  const g = await stack.makeGroup();
  for (let i = 0; i < 50; i++) await stack.turn(g);

  const cpu = () => ({
    orchestrator: cpuMs(stack.services.orchestrator.pid),
    "execution-worker": cpuMs(stack.services.worker.pid),
    postgresql: cpuMs(services.pids.postgres, true),
    redis: cpuMs(services.pids.redis),
    "bench (gateway part, fake LLM)": cpuMs(process.pid),
  });
  const commands = async () => {
    const info = await stack.redis.info("commandstats");
    return new Map([...info.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)].map((m) => [m[1]!, Number(m[2])]));
  };
  const commits = async () =>
    Number(
      (
        await stack.pool.query<{ n: string }>(
          "select xact_commit as n from pg_stat_database where datname = current_database()",
        )
      ).rows[0]!.n,
    );

  const [cpu0, cmd0, tx0] = [cpu(), await commands(), await commits()];
  const latencies: number[] = [];
  for (let i = 0; i < turns; i++) latencies.push(await stack.turn(g));
  const [cpu1, cmd1, tx1] = [cpu(), await commands(), await commits()];

  const per = (a: number, b: number) => (b - a) / turns;
  const lines = [`${turns} sequential 3-step turns, p50 ${median(latencies).toFixed(1)} ms`, ""];
  lines.push("| process | CPU ms per turn |", "|---|---|");
  let sum = 0;
  for (const [name, after] of Object.entries(cpu1)) {
    const v = per(cpu0[name as keyof typeof cpu0], after);
    sum += v;
    lines.push(`| ${name} | ${v.toFixed(2)} |`);
  }
  lines.push(`| all | ${sum.toFixed(2)} |`, "");
  const perCommand = [...cmd1]
    .map(([name, n]) => [name, per(cmd0.get(name) ?? 0, n)] as const)
    .filter(([, v]) => v >= 0.05)
    .sort((a, b) => b[1] - a[1]);
  const total = perCommand.reduce((a, [, v]) => a + v, 0);
  lines.push(
    `Redis commands per turn: ${total.toFixed(1)} (${perCommand.map(([k, v]) => `${k} ${v.toFixed(1)}`).join(", ")})`,
    `PostgreSQL transactions per turn: ${per(tx0, tx1).toFixed(1)}`,
  );
  process.stdout.write(`${lines.join("\n")}\n`);
} finally {
  await stack.close();
  await services.stop();
}
process.exit(0);
