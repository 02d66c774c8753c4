/**
 * Group commit: objects that are ready to store at the same moment (several DIMSE associations
 * at once) are written in ONE transaction, one statement each (one-statement.ts), sent to the
 * server in one go (BEGIN, the statements, COMMIT pipelined on one connection, in one socket
 * write when the connection's socket is db/pg-socket.ts's). The objects then
 * share one round trip and one WAL flush instead of paying one each.
 *
 * Nothing changes for the objects themselves:
 *  - each caller's promise settles only after the transaction holding its object committed, so
 *    an object is acknowledged only once it is durable;
 *  - outcomes are those of storeParsedObject: a later statement in the group sees the rows of an
 *    earlier one, so the same SOP Instance UID twice in a group is stored once (`duplicate`), and
 *    an object whose events were stored by an earlier one goes on to the transactional path
 *    after the commit;
 *  - when any statement of a group fails (a concurrent ingest elsewhere committed the same
 *    object, a deadlock, a lost connection), the whole transaction rolls back and every object of
 *    the group is stored again on its own (storeParsedObject's path, with its retries); a
 *    database failure then reaches each caller as it would have without grouping.
 *
 * Nothing waits to form a group: an object arriving while no group is being written is written
 * at once, alone, as a plain single statement (so one association sees no extra latency). Objects
 * arriving while a group is being written wait for it and form the next group (at most
 * `maxBatch`). Objects that do not take the one-statement path (quarantine, not-dose, values the
 * statement does not carry, the test hook) are stored on their own, as before.
 *
 * Only for postgres.js (a server): PGlite has one connection and no WAL flush worth sharing, and
 * a drizzle transaction is already one transaction; for those `store` is storeParsedObject.
 */
import type { SievertDb } from "../db/client.ts";
import { gatherWrites } from "../db/pg-socket.ts";
import type { ParsedObject } from "../dicom/dose-report.ts";
import { parseForIngest } from "./ingest.ts";
import { readStoreStatementRow, STORE_OBJECT_SQL, storeStatementParams, type StoreStatementResult, type StoreStatementRow } from "./one-statement.ts";
import { prepareStore, storeParsedObject, type IngestMeta, type PreparedStore, type StoreResult } from "./store.ts";

/** postgres.js's Sql, the parts used here. */
interface PgQuery<T> extends PromiseLike<T> {
  execute(): PgQuery<T>;
}
interface PgReserved {
  unsafe(query: string, params?: unknown[], options?: { prepare: boolean }): PgQuery<StoreStatementRow[] & { command?: string }>;
  release(): void;
}
interface PgClient {
  reserve(): Promise<PgReserved>;
  unsafe(query: string, params: unknown[], options: { prepare: boolean }): PromiseLike<unknown>;
}

export interface GroupCommitOptions {
  /** Most objects in one transaction (default 16). */
  maxBatch?: number;
  /** Groups being written at once, each on its own connection (default 1). */
  maxInFlight?: number;
}

interface Waiting {
  prepared: PreparedStore & { statement: NonNullable<PreparedStore["statement"]> };
  resolve: (r: StoreResult) => void;
  reject: (e: unknown) => void;
}

export interface GroupCommitStats {
  /** Transactions of two or more objects written. */
  groups: number;
  /** Objects written in those groups. */
  grouped: number;
  /** Objects written alone (nothing else was waiting). */
  single: number;
  /** Groups that rolled back (their objects were then stored one by one). */
  rolledBack: number;
}

export class GroupCommit {
  private readonly client: PgClient | null;
  private readonly maxBatch: number;
  private readonly waiting: Waiting[] = [];
  private writing = 0;
  private readonly maxInFlight: number;
  readonly stats: GroupCommitStats = { groups: 0, grouped: 0, single: 0, rolledBack: 0 };

  constructor(
    private readonly db: SievertDb,
    options: GroupCommitOptions = {},
  ) {
    const client = (db as { $client?: unknown }).$client;
    const pg = client as Partial<PgClient> | undefined;
    this.client = pg && typeof pg.reserve === "function" && typeof pg.unsafe === "function" ? (pg as PgClient) : null;
    this.maxBatch = options.maxBatch ?? 16;
    this.maxInFlight = options.maxInFlight ?? 1;
    if (!Number.isInteger(this.maxBatch) || this.maxBatch < 1) throw new RangeError("GroupCommit: maxBatch must be ≥ 1");
    if (!Number.isInteger(this.maxInFlight) || this.maxInFlight < 1) throw new RangeError("GroupCommit: maxInFlight must be ≥ 1");
  }

  /** True when objects can share transactions (a Postgres server through postgres.js). */
  get enabled(): boolean {
    return this.client !== null;
  }

  /** ingestBytes, grouped: parse, then store as `store` does. */
  ingest(bytes: Uint8Array, meta: IngestMeta): Promise<StoreResult> {
    return this.store(parseForIngest(bytes, meta.name), bytes, meta);
  }

  /** storeParsedObject, grouped with whatever else is being stored at the same time. */
  store(parsed: ParsedObject, bytes: Uint8Array, meta: IngestMeta): Promise<StoreResult> {
    if (this.client === null || meta.beforeCommit) return storeParsedObject(this.db, parsed, bytes, meta);
    const prepared = prepareStore(parsed, bytes, meta);
    if (prepared.statement === null) return prepared.store(this.db);
    return new Promise<StoreResult>((resolve, reject) => {
      this.waiting.push({ prepared: prepared as Waiting["prepared"], resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    while (this.writing < this.maxInFlight && this.waiting.length > 0) {
      this.writing++;
      const batch = this.waiting.splice(0, this.maxBatch);
      void this.write(batch)
        .catch((err: unknown) => {
          for (const w of batch) w.reject(err); // not expected: write() settles every caller itself
        })
        .finally(() => {
          this.writing--;
          this.kick();
        });
    }
  }

  private async write(batch: Waiting[]): Promise<void> {
    if (batch.length === 1) {
      this.stats.single++;
      const [only] = batch as [Waiting];
      await only.prepared.store(this.db).then(only.resolve, only.reject);
      return;
    }
    let results: StoreStatementResult[] | null;
    try {
      results = await this.writeGroup(batch);
    } catch {
      results = null; // the connection itself failed: each object on its own says how
    }
    if (results === null) {
      this.stats.rolledBack++;
      // Rolled back: nothing of the group was kept. Each object on its own, as without grouping.
      await Promise.all(batch.map((w) => w.prepared.store(this.db).then(w.resolve, w.reject)));
      return;
    }
    this.stats.groups++;
    this.stats.grouped += batch.length;
    // Committed. Settling can need the database again (event collisions: transactional path).
    await Promise.all(batch.map((w, i) => w.prepared.settle(this.db, results[i]!).then(w.resolve, w.reject)));
  }

  /** One transaction for the batch; the statements' results, or null when it rolled back. */
  private async writeGroup(batch: Waiting[]): Promise<StoreStatementResult[] | null> {
    // The same order in every group (study, then object) so two groups written at once by two
    // processes lock shared study rows in the same order.
    const order = batch
      .map((w, i) => ({ i, key: `${w.prepared.statement.studyInstanceUid ?? ""}\u0000${w.prepared.statement.sopInstanceUid}` }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const conn = await this.client!.reserve();
    try {
      // Issued synchronously and sent in one write (db/pg-socket.ts): one system call, and one
      // wake-up of the server, for the whole transaction instead of one per statement.
      const [begin, statements, commit] = gatherWrites(() => [
        conn.unsafe("begin").execute(),
        order.map(({ i }) => conn.unsafe(STORE_OBJECT_SQL, storeStatementParams(batch[i]!.prepared.statement), { prepare: true }).execute()),
        conn.unsafe("commit").execute(),
      ] as const);
      const settled = await Promise.allSettled([begin, ...statements, commit]);
      if (settled.some((s) => s.status === "rejected")) {
        // A failed statement aborts the transaction and COMMIT then rolls it back; make sure.
        if (settled[settled.length - 1]!.status === "rejected") await Promise.resolve(conn.unsafe("rollback").execute()).catch(() => {});
        return null;
      }
      const committed = settled[settled.length - 1] as PromiseFulfilledResult<{ command?: string }>;
      if (committed.value.command !== undefined && committed.value.command.toUpperCase() !== "COMMIT") return null;
      const results: StoreStatementResult[] = new Array<StoreStatementResult>(batch.length);
      order.forEach(({ i }, k) => {
        const rows = (settled[k + 1] as PromiseFulfilledResult<StoreStatementRow[]>).value;
        results[i] = readStoreStatementRow(batch[i]!.prepared.statement, rows[0]);
      });
      return results;
    } finally {
      conn.release();
    }
  }
}
