-- LangGraph checkpoints of turn graphs (orchestrator `TurnCheckpointSaver`; thread_id = turn id).
-- Ids and task paths compare by code point ("C"), as LangGraph orders them.
CREATE TABLE "graph_checkpoints" (
  "thread_id" text NOT NULL,
  "checkpoint_ns" text NOT NULL DEFAULT '',
  "checkpoint_id" text COLLATE "C" NOT NULL,
  "parent_checkpoint_id" text COLLATE "C",
  -- the checkpoint without its channel values (those are in graph_blobs), serialised by the saver's serde
  "type" text NOT NULL,
  "checkpoint" bytea NOT NULL,
  -- channel_versions again, readable by SQL: the channel values of this checkpoint are the blobs at these versions
  "versions" jsonb NOT NULL,
  "metadata_type" text NOT NULL,
  "metadata" bytea NOT NULL,
  "created_at" timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY ("thread_id", "checkpoint_ns", "checkpoint_id")
);
--> statement-breakpoint
-- one channel value per (channel, version); type 'empty' marks a channel emptied at that version
CREATE TABLE "graph_blobs" (
  "thread_id" text NOT NULL,
  "checkpoint_ns" text NOT NULL DEFAULT '',
  "channel" text NOT NULL,
  "version" text NOT NULL,
  "type" text NOT NULL,
  "blob" bytea,
  PRIMARY KEY ("thread_id", "checkpoint_ns", "channel", "version")
);
--> statement-breakpoint
-- pending writes of a checkpoint (returned with it, in (task_path, task_id, idx) order)
CREATE TABLE "graph_writes" (
  "thread_id" text NOT NULL,
  "checkpoint_ns" text NOT NULL DEFAULT '',
  "checkpoint_id" text COLLATE "C" NOT NULL,
  "task_id" text COLLATE "C" NOT NULL,
  "idx" integer NOT NULL,
  "task_path" text COLLATE "C" NOT NULL DEFAULT '',
  "channel" text NOT NULL,
  "type" text NOT NULL,
  "blob" bytea NOT NULL,
  PRIMARY KEY ("thread_id", "checkpoint_ns", "checkpoint_id", "task_id", "idx")
);
