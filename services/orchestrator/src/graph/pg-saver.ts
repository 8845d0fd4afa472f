import type { RunnableConfig } from "@langchain/core/runnables";
import {
  BaseCheckpointSaver,
  type Checkpoint,
  type CheckpointMetadata,
  type CheckpointTuple,
} from "@langchain/langgraph";
import {
  type ChannelVersions,
  type CheckpointListOptions,
  type CheckpointPendingWrite,
  maxChannelVersion,
  type PendingWrite,
  type SerializerProtocol,
  TASKS,
  WRITES_IDX_MAP,
} from "@langchain/langgraph-checkpoint";
import { checkpointStatements, deleteGraphState, listGraphThreads } from "@synapse/shared";
import type pg from "pg";

/** Options of {@link TurnCheckpointSaver}. */
export interface TurnCheckpointSaverOptions {
  /** Schema holding the tables of migration `0001_turn_checkpoints`. @defaultValue "public" */
  schema?: string;
  serde?: SerializerProtocol;
}

/** A checkpoint row with its channel values and pending writes, as the select returns it. */
interface Row {
  thread_id: string;
  checkpoint_ns: string;
  checkpoint_id: string;
  parent_checkpoint_id: string | null;
  type: string;
  checkpoint: Buffer;
  metadata_type: string;
  metadata: Buffer;
  b_channels: string[] | null;
  b_types: string[] | null;
  b_blobs: Buffer[] | null;
  w_tasks: string[] | null;
  w_channels: string[] | null;
  w_types: string[] | null;
  w_blobs: Buffer[] | null;
}

/**
 * A PostgreSQL checkpoint saver made for turn graphs: one statement per read (the checkpoint
 * with its channel values and pending writes) and one per write, on the tables of migration
 * `0001_turn_checkpoints` (no `setup()`: the migration creates them; their SQL is in
 * `@synapse/shared`'s graph-state module).
 *
 * Like `PostgresSaver`, a checkpoint stores only the channel values that changed (`newVersions`),
 * keyed by (channel, version) in `graph_blobs`; the others are found at the versions the checkpoint
 * names. Values, checkpoints, metadata and writes go through `this.serde` and are stored as bytea.
 *
 * It runs its statements on `db`: a pool, or a client in a transaction ({@link withClient}), so that
 * a turn step's checkpoint commits, or rolls back, with the step's transaction.
 */
export class TurnCheckpointSaver extends BaseCheckpointSaver {
  readonly #db: pg.Pool | pg.PoolClient;
  readonly #opts: TurnCheckpointSaverOptions;
  readonly #sql: ReturnType<typeof checkpointStatements>;

  constructor(db: pg.Pool | pg.PoolClient, opts: TurnCheckpointSaverOptions = {}) {
    super(opts.serde);
    this.#db = db;
    this.#opts = opts;
    this.#sql = checkpointStatements(opts.schema ?? "public");
  }

  /** The same saver, running its statements on `client` (in the caller's transaction). */
  withClient(client: pg.PoolClient): TurnCheckpointSaver {
    return new TurnCheckpointSaver(client, { ...this.#opts, serde: this.serde });
  }

  async getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined> {
    const { thread_id, checkpoint_ns = "", checkpoint_id } = config.configurable ?? {};
    if (thread_id === undefined || thread_id === null) return undefined;
    const { rows } = checkpoint_id
      ? await this.#db.query<Row>({
          name: this.#sql.names.getById,
          text: this.#sql.getById,
          values: [String(thread_id), checkpoint_ns, checkpoint_id],
        })
      : await this.#db.query<Row>({
          name: this.#sql.names.getLatest,
          text: this.#sql.getLatest,
          values: [String(thread_id), checkpoint_ns],
        });
    const row = rows[0];
    return row ? this.#toTuple(row) : undefined;
  }

  async *list(config: RunnableConfig, options: CheckpointListOptions = {}): AsyncGenerator<CheckpointTuple> {
    const { filter, before } = options;
    let { limit } = options;
    const c = config.configurable ?? {};
    const filters = Object.entries(filter ?? {});
    // metadata is serialised by the serde, so the filter applies here; without one, the limit goes to SQL
    const { rows } = await this.#db.query<Row>(
      this.#sql.list({
        thread_id: c.thread_id ?? undefined,
        checkpoint_ns: c.checkpoint_ns ?? undefined,
        checkpoint_id: c.checkpoint_id || undefined,
        before: before?.configurable?.checkpoint_id || undefined,
        limit: filters.length === 0 ? limit : undefined,
      }),
    );
    for (const row of rows) {
      if (limit !== undefined && limit <= 0) return;
      const tuple = await this.#toTuple(row);
      const metadata = tuple.metadata as Record<string, unknown> | undefined;
      if (filters.length > 0 && !filters.every(([k, v]) => metadata?.[k] === v)) continue;
      if (limit !== undefined) limit -= 1;
      yield tuple;
    }
  }

  async put(
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    newVersions: ChannelVersions,
  ): Promise<RunnableConfig> {
    if (config.configurable === undefined) throw new Error('Missing "configurable" field in "config" param');
    const { thread_id, checkpoint_ns = "", checkpoint_id: parentId } = config.configurable;
    if (thread_id === undefined || thread_id === null)
      throw new Error('Missing "thread_id" in config.configurable');
    const { channel_values, ...rest } = checkpoint;
    const values = channel_values as Record<string, unknown>;
    const channels = Object.keys(newVersions);
    const [[type, serialized], [metadataType, serializedMetadata], blobs] = await Promise.all([
      this.serde.dumpsTyped(rest),
      this.serde.dumpsTyped(metadata),
      Promise.all(
        channels.map((ch) =>
          Object.hasOwn(values, ch)
            ? this.serde.dumpsTyped(values[ch])
            : Promise.resolve<[string, Uint8Array | null]>(["empty", null]),
        ),
      ),
    ]);
    await this.#db.query({
      name: this.#sql.names.put,
      text: this.#sql.put,
      values: [
        String(thread_id),
        checkpoint_ns,
        checkpoint.id,
        parentId ?? null,
        type,
        serialized,
        JSON.stringify(checkpoint.channel_versions ?? {}),
        metadataType,
        serializedMetadata,
        channels,
        channels.map((ch) => String(newVersions[ch])),
        blobs.map(([t]) => t),
        blobs.map(([, b]) => b),
      ],
    });
    return { configurable: { thread_id, checkpoint_ns, checkpoint_id: checkpoint.id } };
  }

  async putWrites(
    config: RunnableConfig,
    writes: PendingWrite[],
    taskId: string,
    taskPath = "",
  ): Promise<void> {
    const { thread_id, checkpoint_ns = "", checkpoint_id } = config.configurable ?? {};
    if (thread_id === undefined || thread_id === null)
      throw new Error('Missing "thread_id" in config.configurable');
    if (!checkpoint_id) throw new Error('Missing "checkpoint_id" in config.configurable');
    if (writes.length === 0) return;
    // special writes (errors, interrupts...) have fixed indexes and replace each other; the last one wins
    const upsert = writes.every(([channel]) => channel in WRITES_IDX_MAP);
    const byIdx = new Map<number, PendingWrite>();
    writes.forEach((w, i) => {
      const idx = WRITES_IDX_MAP[w[0]] ?? i;
      if (upsert || !byIdx.has(idx)) byIdx.set(idx, w);
    });
    const entries = [...byIdx];
    const dumped = await Promise.all(entries.map(([, [, value]]) => this.serde.dumpsTyped(value)));
    await this.#db.query({
      name: upsert ? this.#sql.names.upsertWrites : this.#sql.names.insertWrites,
      text: upsert ? this.#sql.upsertWrites : this.#sql.insertWrites,
      values: [
        String(thread_id),
        checkpoint_ns,
        checkpoint_id,
        taskId,
        taskPath,
        entries.map(([idx]) => idx),
        entries.map(([, [channel]]) => channel),
        dumped.map(([t]) => t),
        dumped.map(([, b]) => b),
      ],
    });
  }

  async deleteThread(threadId: string): Promise<void> {
    await this.deleteThreads([threadId]);
  }

  /** Deletes every checkpoint, channel value and write of these threads, in one statement. */
  async deleteThreads(threadIds: string[]): Promise<void> {
    await deleteGraphState(this.#db, threadIds, this.#sql);
  }

  /** Up to `limit` threads that have state, in order, after the thread `after`. */
  listThreads(limit: number, after = ""): Promise<string[]> {
    return listGraphThreads(this.#db, limit, after, this.#sql);
  }

  async #toTuple(row: Row): Promise<CheckpointTuple> {
    const { thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id: parentId } = row;
    const channels = row.b_channels ?? [];
    const wTasks = row.w_tasks ?? [];
    const [rest, metadata, channelValues, pendingWrites] = await Promise.all([
      this.serde.loadsTyped(row.type, row.checkpoint) as Promise<Omit<Checkpoint, "channel_values">>,
      this.serde.loadsTyped(row.metadata_type, row.metadata) as Promise<CheckpointMetadata>,
      Promise.all(channels.map((_, i) => this.serde.loadsTyped(row.b_types![i]!, row.b_blobs![i]!))),
      Promise.all(
        wTasks.map(
          async (task, i): Promise<CheckpointPendingWrite> => [
            task,
            row.w_channels![i]!,
            await this.serde.loadsTyped(row.w_types![i]!, row.w_blobs![i]!),
          ],
        ),
      ),
    ]);
    const checkpoint: Checkpoint = {
      ...rest,
      channel_values: Object.fromEntries(channels.map((ch, i) => [ch, channelValues[i]])),
      channel_versions: rest.channel_versions ?? {},
      versions_seen: rest.versions_seen ?? {},
    };
    if (checkpoint.v < 4 && parentId) await this.#migratePendingSends(checkpoint, row);
    return {
      config: { configurable: { thread_id, checkpoint_ns, checkpoint_id } },
      checkpoint,
      metadata,
      parentConfig: parentId
        ? { configurable: { thread_id, checkpoint_ns, checkpoint_id: parentId } }
        : undefined,
      pendingWrites,
    };
  }

  /**
   * Checkpoints before format v4 kept pending sends as writes to TASKS of their parent. No turn
   * graph writes such checkpoints, but LangGraph's conformance suite for savers checks this reading.
   */
  async #migratePendingSends(checkpoint: Checkpoint, row: Row): Promise<void> {
    const { rows } = await this.#db.query<{ type: string; blob: Buffer }>(this.#sql.pendingSends, [
      row.thread_id,
      row.checkpoint_ns,
      row.parent_checkpoint_id,
      TASKS,
    ]);
    const sends = await Promise.all(rows.map((r) => this.serde.loadsTyped(r.type, r.blob)));
    const versions = Object.values(checkpoint.channel_versions);
    (checkpoint.channel_values as Record<string, unknown>)[TASKS] = sends;
    checkpoint.channel_versions[TASKS] =
      versions.length > 0 ? maxChannelVersion(...versions) : this.getNextVersion(undefined);
  }
}
