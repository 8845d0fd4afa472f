import { randomUUID } from "node:crypto";
import { type Config, createLogger, createQueue, createRedis, ORCHESTRATOR_QUEUE } from "@synapse/shared";
import type { Queue } from "bullmq";
import type { InjectOptions, LightMyRequestResponse } from "fastify";
import { testConfig, testResources } from "../../../test/support/services.ts";
import { buildApp } from "../src/app.ts";
import type { App } from "../src/deps.ts";

/** A registered user of a test, with a valid token. */
export interface TestUser {
  id: string;
  email: string;
  password: string;
  token: string;
}

export interface TestGateway {
  app: App;
  config: Config;
  pool: ReturnType<typeof testResources>["pool"];
  redis: ReturnType<typeof testResources>["redis"];
  subscriber: ReturnType<typeof testResources>["subscriber"];
  queue: Queue;
  /** `app.inject` with an optional bearer token and JSON body. */
  call(
    method: InjectOptions["method"],
    url: string,
    opts?: { token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<LightMyRequestResponse>;
  /** Registers and logs in a new user with a random email. */
  user(): Promise<TestUser>;
  /** Creates a group owned by `owner` (plus the given participants); returns its detail. */
  group(owner: TestUser, body?: Record<string, unknown>, participants?: TestUser[]): Promise<GroupDetail>;
  close(): Promise<void>;
}

export interface GroupDetail {
  id: string;
  name: string;
  owner_id: string;
  created_at: string;
  updated_at: string;
  members: { id: string; alias: string; is_orchestrator: boolean; [k: string]: unknown }[];
  participants: { user_id: string; email: string; role: string }[];
}

/**
 * An in-process gateway on the run's real PostgreSQL and Redis, with its own queue prefix.
 * Auth rate limits are high unless overridden: tests register many users from one IP.
 */
export async function testGateway(overrides: Record<string, string> = {}): Promise<TestGateway> {
  const config = testConfig({ RATE_LIMIT_AUTH_PER_MINUTE: "100000", ...overrides });
  const { pool, redis, subscriber, close } = testResources();
  const queueConnection = createRedis(config.REDIS_URL!, { bullmq: true });
  const queue = createQueue(ORCHESTRATOR_QUEUE, queueConnection, config);
  const app = await buildApp({
    config,
    pool,
    redis,
    subscriber,
    logger: createLogger(config, "gateway-test"),
    orchestratorQueue: queue,
  });
  await app.ready();

  const call: TestGateway["call"] = (method, url, opts = {}) =>
    app.inject({
      method,
      url,
      headers: {
        ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
        ...opts.headers,
      },
      ...(opts.body !== undefined ? { payload: opts.body as InjectOptions["payload"] } : {}),
    });

  const user: TestGateway["user"] = async () => {
    const email = `u-${randomUUID()}@example.com`;
    const password = "correct horse battery";
    const reg = await call("POST", "/auth/register", { body: { email, password } });
    if (reg.statusCode !== 201) throw new Error(`register failed: ${reg.statusCode} ${reg.body}`);
    const login = await call("POST", "/auth/login", { body: { email, password } });
    if (login.statusCode !== 200) throw new Error(`login failed: ${login.statusCode} ${login.body}`);
    return { id: reg.json().id, email, password, token: login.json().access_token };
  };

  const group: TestGateway["group"] = async (owner, body = { name: "test group" }, participants = []) => {
    const res = await call("POST", "/groups", { token: owner.token, body });
    if (res.statusCode !== 201) throw new Error(`create group failed: ${res.statusCode} ${res.body}`);
    const detail = res.json() as GroupDetail;
    for (const p of participants) {
      const add = await call("POST", `/groups/${detail.id}/participants`, {
        token: owner.token,
        body: { email: p.email },
      });
      if (add.statusCode !== 201) throw new Error(`add participant failed: ${add.statusCode} ${add.body}`);
    }
    return detail;
  };

  return {
    app,
    config,
    pool,
    redis,
    subscriber,
    queue,
    call,
    user,
    group,
    async close() {
      await app.close();
      await queue.close();
      queueConnection.disconnect();
      await close();
    },
  };
}
