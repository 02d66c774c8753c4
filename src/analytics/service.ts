/**
 * AnalyticsService: the one owner of the DuckDB copy for a database. Sync is serialised
 * (one at a time; a request during a run schedules one more run), `requestSync()` is the
 * debounced trigger to call after ingest, and rule changes remap without a full sync.
 */
import { join } from "node:path";
import { eq } from "drizzle-orm";
import type { SievertDb } from "../db/client.ts";
import { examMappingRules } from "../db/analytics-schema.ts";
import { loadConfig } from "../config/index.ts";
import { AnalyticsStore } from "./store.ts";
import { roundedPhases, syncFromPostgres, type SyncOptions, type SyncResult } from "./sync.ts";
import { ExamMapper, defaultRules, loadUserRules, type MappingRule } from "./mapping.ts";
import { remapExams } from "./exam-map-apply.ts";
import { RuleSchema, type RuleInput } from "./reference-data.ts";
import { compilePattern } from "./safe-pattern.ts";

export interface AnalyticsServiceOptions {
  /** DuckDB file, or ":memory:". Default SIEVERT_DATA_DIR/analytics.duckdb. */
  path?: string;
  /** Debounce for requestSync (ms, default 2000). */
  debounceMs?: number;
  onSyncError?: (err: unknown) => void;
  onSynced?: (r: SyncResult) => void;
}

export function defaultAnalyticsPath(): string {
  return join(loadConfig().dataDir, "analytics.duckdb");
}

export class AnalyticsService {
  private running: Promise<SyncResult> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private mapper: ExamMapper | null = null;
  lastSync: SyncResult | null = null;
  lastError: string | null = null;

  private constructor(
    readonly db: SievertDb,
    readonly store: AnalyticsStore,
    private readonly options: AnalyticsServiceOptions,
  ) {}

  static async open(db: SievertDb, options: AnalyticsServiceOptions = {}): Promise<AnalyticsService> {
    const store = await AnalyticsStore.open({ path: options.path ?? defaultAnalyticsPath() });
    return new AnalyticsService(db, store, options);
  }

  async rules(): Promise<MappingRule[]> {
    return [...(await loadUserRules(this.db)), ...defaultRules(this.store.ref.defaultRules)];
  }

  private async currentMapper(): Promise<ExamMapper> {
    if (!this.mapper) this.mapper = new ExamMapper(await this.rules());
    return this.mapper;
  }

  /** One sync run; concurrent callers share the run in progress. */
  sync(options: SyncOptions = {}): Promise<SyncResult> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        const r = await syncFromPostgres(this.db, this.store, await this.currentMapper(), options);
        this.lastSync = r;
        this.lastError = null;
        this.options.onSynced?.(r);
        return r;
      } catch (err) {
        this.lastError = err instanceof Error ? err.message : String(err);
        throw err;
      } finally {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.requestSync();
        }
      }
    })();
    return this.running;
  }

  /** Debounced trigger for after ingest: many objects in a burst give one sync. */
  requestSync(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.sync().catch((err: unknown) => this.options.onSyncError?.(err));
    }, this.options.debounceMs ?? 2000);
    this.timer.unref();
  }

  async addRule(input: RuleInput & { note?: string | null }): Promise<MappingRule> {
    const rule = RuleSchema.parse(input);
    if (!this.store.ref.exams.some((e) => e.code === rule.examCode)) throw new RangeError(`unknown exam code ${rule.examCode}`);
    if (rule.match === "regex") compilePattern(rule.pattern, { caseInsensitive: true }); // throws PatternError (a SyntaxError)
    const [row] = await this.db
      .insert(examMappingRules)
      .values({
        examCode: rule.examCode,
        field: rule.field,
        match: rule.match,
        pattern: rule.pattern,
        modality: rule.modality ?? null,
        trustOds: rule.trustOds ?? null,
        deviceId: rule.deviceId ?? null,
        priority: input.priority ?? 0,
        note: input.note ?? null,
      })
      .returning({ id: examMappingRules.id });
    await this.rulesChanged();
    return (await this.rules()).find((r) => r.id === `user:${row!.id}`)!;
  }

  async deleteRule(id: number): Promise<boolean> {
    const r = await this.db.delete(examMappingRules).where(eq(examMappingRules.id, id)).returning({ id: examMappingRules.id });
    if (r.length) await this.rulesChanged();
    return r.length > 0;
  }

  /** Rebuilds the mapper and remaps every exam instance whose mapping is now stale. */
  async rulesChanged(): Promise<number> {
    this.mapper = new ExamMapper(await this.rules());
    return remapExams(this.store, this.mapper);
  }

  async status(): Promise<Record<string, unknown>> {
    const state = await this.store.read(async (c) => Object.fromEntries((await c.runAndReadAll("SELECT name, value FROM sync_state")).getRowsJS() as [string, string][]));
    const counts = await this.store.read(async (c) =>
      (
        await c.runAndReadAll(
          "SELECT (SELECT count(*) FROM objects)::INTEGER AS objects, (SELECT count(*) FROM events)::INTEGER AS events, (SELECT count(*) FROM exam_facts)::INTEGER AS exam_instances, (SELECT count(*) FROM exam_facts WHERE exam_code IS NULL)::INTEGER AS unmapped",
        )
      ).getRowObjectsJS()[0],
    );
    return { path: this.store.path, ...state, ...counts, running: this.running !== null, lastError: this.lastError };
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
    await this.store.close();
  }
}

/** What a logger needs for syncLogging (pino's Logger has it). */
interface SyncLogger {
  info(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/**
 * The service's callbacks for a long-running process (`serve`): a line for each sync that copied or
 * remapped anything, with where its time went, and an error line for a sync that failed (a
 * background sync has no caller to throw to; its error also stays in the copy's status, GET
 * /api/v1/analytics/sync).
 */
export function syncLogging(logger: SyncLogger): Pick<AnalyticsServiceOptions, "onSynced" | "onSyncError"> {
  return {
    onSynced: (r) => {
      if (r.objects + r.events + r.lateRows + r.mapped === 0) return;
      const { objects, events, lateRows, studiesRebuilt, mapped, highWater } = r;
      const phases = roundedPhases(r.phases);
      logger.info({ objects, events, lateRows, studiesRebuilt, mapped, seconds: Number(r.seconds.toFixed(3)), highWater, phases }, "analytics copy synced");
    },
    onSyncError: (err) => logger.error({ err }, "analytics sync failed"),
  };
}

/** One service per database in this process (the API and the serve command share it). */
const registry = new WeakMap<SievertDb, Promise<AnalyticsService>>();

export function analyticsFor(db: SievertDb, options: AnalyticsServiceOptions = {}): Promise<AnalyticsService> {
  let s = registry.get(db);
  if (!s) {
    s = AnalyticsService.open(db, options);
    registry.set(db, s);
  }
  return s;
}

/** Use an already-open service for this database (tests, serve). */
export function registerAnalytics(db: SievertDb, service: AnalyticsService): void {
  registry.set(db, Promise.resolve(service));
}

/** Debounced sync trigger for any ingest path (DIMSE, STOW, backfill) in this process. */
export function notifyIngested(db: SievertDb): void {
  const s = registry.get(db);
  if (s) void s.then((svc) => svc.requestSync()).catch(() => undefined);
}
