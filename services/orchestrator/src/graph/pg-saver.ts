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
import type pg from "pg";
import { inline, literal, statements } from "./pg-saver.sql.ts";

/** Options of {@link TurnCheckpointSaver}. */
export interface TurnCheckpointSaverOptions {
  /** Schema holding the tables of migration `0001_turn_checkpoints`. @defaultValue "public" */
  schema?: string;
  /**
   * Make each `put` also delete the thread's checkpoints older than the new one's parent (with the
   * writes and channel values only they used): a turn needs its latest state, not its history.
   * Then `list` returns at most the two latest checkpoints of a thread and `getDeltaChannelHistory`
   * cannot walk past the parent (the turn graph has no `DeltaChannel`). Off by default: measured,
   * the deletes cost more per `put` (~0.9 ms) than deleting the whole thread once when its turn
   * ends, and a turn's checkpoint count is bounded by its step limit.
   * @defaultValue false
   */
  pruneHistory?: boolean;
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
 * `0001_turn_checkpoints` (no `setup()`: the migration creates them).
 *
 * Like `PostgresSaver`, a checkpoint stores only the channel values that changed (`newVersions`),
 * keyed by (channel, version) in `graph_blobs`; the others are found at the versions the checkpoint
 * names. Values, checkpoints, metadata and writes go through `this.serde` and are stored as bytea.
 */
export class TurnCheckpointSaver extends BaseCheckpointSaver {
  readonly #pool: pg.Pool;
  readonly #pruneHistory: boolean;
  readonly #sql: ReturnType<typeof statements>;
  /** Latest checkpoint rows read ahead by the caller (see {@link prime}), by thread id. */
  readonly #primed = new Map<string, Row | null>();
  /** Puts of primed threads not written yet (see {@link takeDeferredPut}), by thread id. */
  readonly #deferred = new Map<string, { name: string; text: string; values: unknown[] }>();

  constructor(pool: pg.Pool, opts: TurnCheckpointSaverOptions = {}) {
    super(opts.serde);
    this.#pool = pool;
    this.#pruneHistory = opts.pruneHistory ?? false;
    this.#sql = statements(opts.schema ?? "public");
  }

  /**
   * One statement selecting the latest checkpoint (namespace "") of the thread whose id `threadIdSql`
   * evaluates to (a literal, a parameter or a scalar subquery: trusted SQL). The caller runs it in a
   * round trip it makes anyway and hands the rows to {@link prime}.
   */
  latestSql(threadIdSql: string): string {
    return `${this.#sql.select} where c.thread_id = (${threadIdSql})::text and c.checkpoint_ns = '' order by c.checkpoint_id desc limit 1`;
  }

  /**
   * Takes the rows of a {@link latestSql} statement as the thread's latest checkpoint: `getTuple`
   * of its latest checkpoint then reads nothing, until the thread is written to or {@link unprime}d.
   * And the thread's `put`s are deferred: the caller takes the statement ({@link takeDeferredPut})
   * and runs it in a round trip of its own (the commit of its transaction); anything else reading or
   * writing the thread first runs it. Only for a caller that keeps every other reader and writer of
   * the thread out meanwhile (the group lock).
   */
  prime(threadId: string, rows: unknown[]): void {
    this.#primed.set(threadId, (rows[0] as Row | undefined) ?? null);
  }

  /** Forgets what {@link prime} gave for this thread, and drops a put not taken (the caller failed). */
  unprime(threadId: string): void {
    this.#primed.delete(threadId);
    this.#deferred.delete(threadId);
  }

  /** The thread's deferred put as one statement without parameters (values inlined), if there is one. */
  takeDeferredPut(threadId: string): string | undefined {
    const put = this.#deferred.get(threadId);
    if (!put) return undefined;
    this.#deferred.delete(threadId);
    return inline(put.text, put.values);
  }

  /** Runs the thread's deferred put now (something else reads or writes the thread). */
  async #flush(threadId: string): Promise<void> {
    const put = this.#deferred.get(threadId);
    if (!put) return;
    this.#deferred.delete(threadId);
    await this.#pool.query(put);
  }

  async getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined> {
    const { thread_id, checkpoint_ns = "", checkpoint_id } = config.configurable ?? {};
    if (thread_id === undefined || thread_id === null) return undefined;
    await this.#flush(String(thread_id));
    if (!checkpoint_id && checkpoint_ns === "") {
      const primed = this.#primed.get(String(thread_id));
      if (primed !== undefined) return primed ? this.#toTuple(primed) : undefined;
    }
    const { rows } = checkpoint_id
      ? await this.#pool.query<Row>({
          name: this.#sql.names.getById,
          text: this.#sql.getById,
          values: [String(thread_id), checkpoint_ns, checkpoint_id],
        })
      : await this.#pool.query<Row>({
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
    const where: string[] = [];
    const values: unknown[] = [];
    const add = (cond: (p: string) => string, v: unknown) => {
      values.push(v);
      where.push(cond(`$${values.length}`));
    };
    const c = config.configurable ?? {};
    if (c.thread_id !== undefined && c.thread_id !== null)
      add((p) => `c.thread_id = ${p}`, String(c.thread_id));
    if (c.checkpoint_ns !== undefined && c.checkpoint_ns !== null)
      add((p) => `c.checkpoint_ns = ${p}`, c.checkpoint_ns);
    if (c.checkpoint_id) add((p) => `c.checkpoint_id = ${p}`, c.checkpoint_id);
    if (before?.configurable?.checkpoint_id)
      add((p) => `c.checkpoint_id < ${p}`, before.configurable.checkpoint_id);
    const filters = Object.entries(filter ?? {});
    // metadata is serialised by the serde, so the filter applies here; without one, the limit goes to SQL
    const sqlLimit =
      filters.length === 0 && limit !== undefined ? ` limit ${Math.max(0, Math.floor(limit))}` : "";
    const { rows } = await this.#pool.query<Row>(
      `${this.#sql.select}${where.length > 0 ? ` where ${where.join(" and ")}` : ""} order by c.checkpoint_id desc${sqlLimit}`,
      values,
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
    const prune = this.#pruneHistory && parentId ? String(parentId) : null;
    const thread = String(thread_id);
    const primed = this.#primed.has(thread);
    this.#primed.delete(thread);
    await this.#flush(thread);
    const query = {
      name: prune ? this.#sql.names.putPrune : this.#sql.names.put,
      text: prune ? this.#sql.putPrune : this.#sql.put,
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
    };
    if (primed) this.#deferred.set(thread, query);
    else await this.#pool.query(query);
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
    this.#primed.delete(String(thread_id));
    await this.#flush(String(thread_id));
    await this.#pool.query({
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
  async deleteThreads(threadIds: string[], db: pg.Pool | pg.PoolClient = this.#pool): Promise<void> {
    if (threadIds.length === 0) return;
    for (const id of threadIds) this.unprime(id);
    await db.query({
      name: this.#sql.names.deleteThreads,
      text: this.#sql.deleteThreads,
      values: [threadIds],
    });
  }

  /** One statement, without parameters, deleting these threads (ids are quoted as literals). */
  deleteThreadsSql(threadIds: string[]): string {
    for (const id of threadIds) this.unprime(id);
    const ids = `array[${threadIds.map(literal).join(", ")}]::text[]`;
    return this.#sql.deleteThreads.replaceAll("$1::text[]", ids);
  }

  /**
   * Deletes the state of threads that are no longer turns in progress: their turn ended or is gone
   * (a crash between a turn's end and its clean-up). At most `limit` threads per call.
   */
  async collect(limit = 1000): Promise<number> {
    const { rowCount } = await this.#pool.query(this.#sql.collect, [limit]);
    return rowCount ?? 0;
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

  /** Checkpoints before format v4 kept pending sends as writes to TASKS of their parent. */
  async #migratePendingSends(checkpoint: Checkpoint, row: Row): Promise<void> {
    const { rows } = await this.#pool.query<{ type: string; blob: Buffer }>(this.#sql.pendingSends, [
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
