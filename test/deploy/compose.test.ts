import { readFileSync } from "node:fs";
import path from "node:path";
import { CONFIG_VARIABLES } from "@synapse/shared";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { roles } from "../../scripts/lib/roles.ts";

/**
 * No Docker engine runs here, so compose.yaml and the Dockerfile are checked against what the code
 * expects: they cannot rot silently when a role, a variable or a port changes.
 */
const root = path.resolve(import.meta.dirname, "../..");
const read = (file: string) => readFileSync(path.join(root, file), "utf8");

interface Service {
  build?: unknown;
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
  container_name?: string;
}
const compose = parse(read("compose.yaml"), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const services = compose.services;
const app = Object.entries(services).filter(([, s]) => s.build !== undefined);
const dockerfile = read("Dockerfile");

describe("compose.yaml", () => {
  it("runs every role of the image, and only roles that exist", () => {
    const commands = app.map(([, s]) => s.command?.[0]);
    expect(new Set(commands)).toEqual(new Set(Object.keys(roles)));
  });

  it("sets only variables the configuration knows (and Node's own options)", () => {
    const known = new Set([...CONFIG_VARIABLES, "NODE_OPTIONS"]);
    for (const [name, s] of app)
      expect(
        Object.keys(s.environment ?? {}).filter((v) => !known.has(v)),
        name,
      ).toEqual([]);
  });

  it("publishes the gateway on the port it listens on, which the image exposes", () => {
    const gateway = services.gateway!;
    const port = gateway.environment?.PORT;
    expect(gateway.environment?.HOST).toBe("0.0.0.0");
    expect(gateway.ports?.map((p) => p.split(":").at(-1))).toEqual([port]);
    expect(dockerfile).toMatch(new RegExp(`^EXPOSE ${port}$`, "m"));
  });

  it("starts the services after healthy databases and a finished migration", () => {
    for (const [name, s] of app) {
      expect(s.depends_on?.postgres?.condition, name).toBe("service_healthy");
      if (name !== "migrate")
        expect(s.depends_on?.migrate?.condition, name).toBe("service_completed_successfully");
    }
    for (const [name, s] of Object.entries(services))
      for (const dep of Object.keys(s.depends_on ?? {}))
        expect(services[dep], `${name} -> ${dep}`).toBeDefined();
  });

  it("keeps data in named volumes, Redis with its append-only file", () => {
    for (const s of Object.values(services))
      for (const v of s.volumes ?? []) expect(compose.volumes).toHaveProperty(v.split(":")[0]!);
    expect(services.redis?.command).toEqual(expect.arrayContaining(["--appendonly", "yes"]));
  });

  it("lets the worker and orchestrator scale (no fixed name, no host port)", () => {
    for (const name of ["worker", "orchestrator"]) {
      expect(services[name]?.container_name).toBeUndefined();
      expect(services[name]?.ports).toBeUndefined();
    }
  });
});

describe("Dockerfile", () => {
  it("runs the built JavaScript as a non-root user on a supported Node LTS", () => {
    expect(dockerfile).toMatch(/^ENTRYPOINT \[.*"dist\/role\.js"\]$/m);
    expect(dockerfile).not.toMatch(/tsx/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK /m);
    expect(Number(/node:(\d+)/.exec(dockerfile)?.[1])).toBeGreaterThanOrEqual(22);
  });

  it("carries no test code: tests stay out of the context, the runtime gets only built output", () => {
    const ignored = read(".dockerignore").split("\n");
    expect(ignored).toEqual(expect.arrayContaining(["test", "services/*/test", "**/*.test.ts", "bench"]));
    const runtime = dockerfile.slice(dockerfile.indexOf(" AS runtime"));
    expect(runtime).not.toMatch(/^COPY (?!--from=build )/m);
    const copied = [...runtime.matchAll(/^COPY --from=build \/app\/(\S+)/gm)].map((m) => m[1]);
    expect(copied).toContain("dist");
    for (const from of copied) expect(from).not.toMatch(/(^|\/)(src|test|scripts|bench)(\/|$)/);
  });
});
