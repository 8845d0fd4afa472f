import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  real,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

/** Source of truth for the relational model; `npm run db:generate` turns changes into a migration. */

const createdAt = () => timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow();
const updatedAt = () => timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow();

export const users = pgTable(
  "users",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    email: text("email").notNull(),
    passwordHash: text("password_hash").notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("users_email_lower_key").on(sql`lower(${t.email})`)],
);

export const groups = pgTable(
  "groups",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    name: text("name").notNull(),
    ownerId: uuid("owner_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** Last `seq` handed out; bumped in the same statement that inserts a message (row lock = order). */
    lastSeq: bigint("last_seq", { mode: "number" }).notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("groups_owner_idx").on(t.ownerId)],
);

export const groupParticipants = pgTable(
  "group_participants",
  {
    groupId: uuid("group_id")
      .notNull()
      .references(() => groups.id, { onDelete: "cascade" }),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: text("role", { enum: ["owner", "member"] }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.groupId, t.userId] }),
    index("group_participants_user_idx").on(t.userId, t.groupId),
    check("group_participants_role_check", sql`${t.role} in ('owner', 'member')`),
  ],
);

export const agents = pgTable(
  "agents",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    groupId: uuid("group_id")
      .notNull()
      .references(() => groups.id, { onDelete: "cascade" }),
    alias: text("alias").notNull(),
    rolePrompt: text("role_prompt").notNull().default(""),
    provider: text("provider").notNull(),
    model: text("model").notNull(),
    temperature: real("temperature").notNull().default(0.7),
    tools: text("tools").array().notNull().default(sql`'{}'::text[]`),
    isOrchestrator: boolean("is_orchestrator").notNull().default(false),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("agents_group_alias_lower_key").on(t.groupId, sql`lower(${t.alias})`),
    uniqueIndex("agents_one_orchestrator_key").on(t.groupId).where(sql`${t.isOrchestrator}`),
  ],
);

export const messages = pgTable(
  "messages",
  {
    /** Chosen by the writer before the insert, so a retried write is a no-op (idempotency key). */
    id: uuid("id").primaryKey(),
    groupId: uuid("group_id")
      .notNull()
      .references(() => groups.id, { onDelete: "cascade" }),
    seq: bigint("seq", { mode: "number" }).notNull(),
    turnId: uuid("turn_id"),
    senderType: text("sender_type", { enum: ["user", "agent", "tool", "system"] }).notNull(),
    senderAlias: text("sender_alias").notNull(),
    senderUserId: uuid("sender_user_id").references(() => users.id, { onDelete: "set null" }),
    content: text("content").notNull(),
    toolCalls: jsonb("tool_calls"),
    toolCallId: text("tool_call_id"),
    meta: jsonb("meta"),
    idempotencyKey: text("idempotency_key"),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("messages_group_seq_key").on(t.groupId, t.seq),
    index("messages_group_created_idx").on(t.groupId, t.createdAt),
    index("messages_turn_idx").on(t.turnId),
    uniqueIndex("messages_idempotency_key")
      .on(t.senderUserId, t.idempotencyKey)
      .where(sql`${t.idempotencyKey} is not null`),
    check("messages_sender_type_check", sql`${t.senderType} in ('user', 'agent', 'tool', 'system')`),
  ],
);

export const turns = pgTable(
  "turns",
  {
    id: uuid("id").primaryKey(),
    groupId: uuid("group_id")
      .notNull()
      .references(() => groups.id, { onDelete: "cascade" }),
    messageId: uuid("message_id")
      .notNull()
      .references(() => messages.id, { onDelete: "cascade" }),
    /** seq of the message that began the turn: queued turns start in this order. */
    messageSeq: bigint("message_seq", { mode: "number" }).notNull(),
    status: text("status", { enum: ["queued", "running", "ended"] })
      .notNull()
      .default("queued"),
    reason: text("reason", { enum: ["completed", "awaiting_user", "max_steps", "cancelled", "error"] }),
    steps: integer("steps").notNull().default(0),
    usage: jsonb("usage").notNull().default(sql`'{"input_tokens":0,"output_tokens":0,"by_agent":{}}'::jsonb`),
    createdAt: createdAt(),
    startedAt: timestamp("started_at", { withTimezone: true, mode: "date" }),
    /**
     * The group's last seq when the turn started: LLM calls place its message right after it, so a
     * message that waited in the queue comes after the turn it waited for. Null until it starts.
     */
    startSeq: bigint("start_seq", { mode: "number" }),
    endedAt: timestamp("ended_at", { withTimezone: true, mode: "date" }),
    /** Who cancelled the turn; null unless a person did (and after that person's account is gone). */
    cancelledBy: uuid("cancelled_by").references(() => users.id, { onDelete: "set null" }),
    updatedAt: updatedAt(),
    /**
     * The W3C trace context of the request that began the turn, when tracing was on: a queued turn
     * starts later, from an `advance` job, and its steps still join that request's trace.
     */
    trace: jsonb("trace").$type<Record<string, string>>(),
  },
  (t) => [
    // one running turn per group, enforced by the database itself
    uniqueIndex("turns_one_running_key").on(t.groupId).where(sql`${t.status} = 'running'`),
    index("turns_queued_idx").on(t.groupId, t.messageSeq).where(sql`${t.status} = 'queued'`),
    index("turns_running_updated_idx").on(t.updatedAt).where(sql`${t.status} = 'running'`),
    index("turns_group_created_idx").on(t.groupId, t.createdAt),
    index("turns_message_idx").on(t.messageId),
    index("turns_group_start_idx").on(t.groupId, t.startSeq).where(sql`${t.startSeq} is not null`),
    check("turns_status_check", sql`${t.status} in ('queued', 'running', 'ended')`),
  ],
);
