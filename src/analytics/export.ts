/**
 * Streams a question's answer as JSON, CSV, Parquet or Arrow IPC (stream format).
 * - json/csv/arrow: DuckDB result chunks (2048 rows) are converted as they arrive.
 * - parquet: the answer goes to a temp table on the read connection, then DuckDB
 *   `COPY … TO` a temp file (FORMAT parquet, units in the key-value metadata), streamed and removed.
 * - arrow: apache-arrow RecordBatches through RecordBatchStreamWriter (no DuckDB arrow
 *   extension here: engineering-notes §2); units as field metadata.
 * Units: quantity columns carry the unit in their name; long-format answers have a `unit`
 * column; json adds `columns[].unit`, parquet/arrow carry the same in metadata.
 */
import { createReadStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBTypeId, type DuckDBConnection, type DuckDBType, type DuckDBValue } from "@duckdb/node-api";
import {
  Bool,
  DateDay,
  Field,
  Float64,
  Int32,
  List,
  RecordBatch,
  RecordBatchStreamWriter,
  Schema,
  Struct,
  Utf8,
  makeData,
  vectorFromArray,
  type DataType,
} from "apache-arrow";
import { questionParams, questionSql, type QuestionFilters, type QuestionName } from "./questions.ts";
import type { AnalyticsStore } from "./store.ts";

export const FORMATS = ["json", "csv", "parquet", "arrow"] as const;
export type ExportFormat = (typeof FORMATS)[number];

export const CONTENT_TYPES: Record<ExportFormat, string> = {
  json: "application/json; charset=utf-8",
  csv: "text/csv; charset=utf-8",
  parquet: "application/vnd.apache.parquet",
  arrow: "application/vnd.apache.arrow.stream",
};

export interface ColumnInfo {
  name: string;
  type: string;
  /** Fixed unit of the column, "see unit column" for long-format values, else null. */
  unit: string | null;
}

const UNIT_SUFFIXES: Array<[RegExp, string]> = [
  [/_mGycm$/, "mGy·cm"],
  [/_Gycm2$/, "Gy·cm²"],
  [/_MBq_per_kg$/, "MBq/kg"],
  [/_MBq$/, "MBq"],
  [/_mSv$/, "mSv"],
  [/_mGy$/, "mGy"],
  [/_cm$/, "cm"],
  [/_mm$/, "mm"],
  [/_kg$/, "kg"],
  [/_kV$/, "kV"],
  [/_mAs$/, "mAs"],
  [/_min$/, "min"],
  [/_s$/, "s"],
];
const LONG_VALUE_COLUMNS = new Set(["p25", "median", "p75", "drl", "value", "overall_median", "local_drl", "national_drl", "unit_medians"]);

export function columnUnit(name: string, hasUnitColumn: boolean): string | null {
  for (const [re, unit] of UNIT_SUFFIXES) if (re.test(name)) return unit;
  if (name === "k_msv_per_mgycm") return "mSv/(mGy·cm)";
  if (hasUnitColumn && LONG_VALUE_COLUMNS.has(name)) return "see unit column";
  return null;
}

/** A DuckDB value as plain JS: numbers, strings, booleans, null, ISO dates, arrays. */
export function plain(v: DuckDBValue): unknown {
  if (v === null || typeof v === "number" || typeof v === "string" || typeof v === "boolean") return v;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "object" && "items" in v && Array.isArray((v as { items: unknown }).items)) return (v as { items: DuckDBValue[] }).items.map(plain);
  return String(v);
}

interface Answer {
  columns: ColumnInfo[];
  types: DuckDBType[];
  chunks: AsyncIterable<unknown[][]>;
}

/** Runs a question on a held read connection; yields rows chunk by chunk, then releases it. */
async function openAnswer(store: AnalyticsStore, name: QuestionName, filters: QuestionFilters): Promise<Answer> {
  const { conn, release } = await store.acquireReader();
  try {
    const { values, types } = questionParams(name, filters);
    const result = await conn.stream(questionSql(name), values, types);
    const names = result.columnNames();
    const colTypes = result.columnTypes();
    const hasUnit = names.includes("unit");
    const columns = names.map((n, i) => ({ name: n, type: colTypes[i]!.toString(), unit: columnUnit(n, hasUnit) }));
    async function* chunks(): AsyncGenerator<unknown[][]> {
      try {
        for (;;) {
          const chunk = await result.fetchChunk();
          if (!chunk || chunk.rowCount === 0) break;
          yield chunk.getRows().map((r) => r.map(plain));
        }
      } finally {
        release();
      }
    }
    return { columns, types: colTypes, chunks: chunks() };
  } catch (err) {
    release();
    throw err;
  }
}

/** Every row as objects (small answers: tests, CLI table output). */
export async function answerRows(store: AnalyticsStore, name: QuestionName, filters: QuestionFilters = {}): Promise<{ columns: ColumnInfo[]; rows: Record<string, unknown>[] }> {
  const a = await openAnswer(store, name, filters);
  const rows: Record<string, unknown>[] = [];
  for await (const chunk of a.chunks) for (const r of chunk) rows.push(Object.fromEntries(a.columns.map((c, i) => [c.name, r[i]])));
  return { columns: a.columns, rows };
}

const enc = new TextEncoder();

/**
 * One CSV cell. Text that a spreadsheet would take for a formula (starting with =, +, -, @, tab
 * or carriage return: a protocol named "=HYPERLINK(…)" from a modality) is written with a
 * leading apostrophe and quoted, so it opens as text (OWASP "CSV injection"); numbers are not
 * touched. The apostrophe is visible in the cell and in the raw file.
 */
export function csvField(v: unknown): string {
  if (v === null || v === undefined) return "";
  const s = Array.isArray(v) ? JSON.stringify(v) : String(v);
  if (typeof v === "string" && /^[=+\-@\t\r]/.test(s)) return `"'${s.replaceAll('"', '""')}"`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

async function* jsonStream(name: QuestionName, filters: QuestionFilters, a: Answer): AsyncGenerator<Uint8Array> {
  yield enc.encode(`{"question":${JSON.stringify(name)},"filters":${JSON.stringify(filters)},"columns":${JSON.stringify(a.columns)},"rows":[`);
  let first = true;
  for await (const chunk of a.chunks) {
    const parts = chunk.map((r) => JSON.stringify(Object.fromEntries(a.columns.map((c, i) => [c.name, r[i]]))));
    if (parts.length === 0) continue;
    yield enc.encode((first ? "" : ",") + parts.join(","));
    first = false;
  }
  yield enc.encode("]}\n");
}

async function* csvStream(a: Answer): AsyncGenerator<Uint8Array> {
  yield enc.encode(a.columns.map((c) => csvField(c.name)).join(",") + "\r\n");
  for await (const chunk of a.chunks) {
    if (chunk.length) yield enc.encode(chunk.map((r) => r.map(csvField).join(",")).join("\r\n") + "\r\n");
  }
}

function arrowType(t: DuckDBType): DataType {
  switch (t.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return new Bool();
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
      return new Int32();
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
    case DuckDBTypeId.DECIMAL:
      return new Float64();
    case DuckDBTypeId.DATE:
      return new DateDay();
    case DuckDBTypeId.LIST: {
      const child = (t as unknown as { valueType: DuckDBType }).valueType;
      return new List(new Field("item", arrowType(child), true));
    }
    default:
      return new Utf8();
  }
}

function arrowValues(values: unknown[], type: DataType): unknown[] {
  if (type instanceof DateDay) return values.map((v) => (v === null ? null : new Date(`${String(v)}T00:00:00Z`)));
  if (type instanceof Utf8) return values.map((v) => (v === null ? null : typeof v === "string" ? v : JSON.stringify(v)));
  return values;
}

export function arrowSchema(name: QuestionName, columns: ColumnInfo[], types: DuckDBType[]): Schema {
  const fields = columns.map((c, i) => {
    const meta = new Map<string, string>([["duckdb_type", c.type]]);
    if (c.unit) meta.set("unit", c.unit);
    return new Field(c.name, arrowType(types[i]!), true, meta);
  });
  const units = Object.fromEntries(columns.filter((c) => c.unit).map((c) => [c.name, c.unit]));
  return new Schema(fields, new Map([["sievert_question", name], ["units", JSON.stringify(units)]]));
}

async function* arrowStream(name: QuestionName, a: Answer): AsyncGenerator<Uint8Array> {
  const schema = arrowSchema(name, a.columns, a.types);
  const writer = new RecordBatchStreamWriter();
  const producer = (async () => {
    try {
      writer.reset(undefined, schema);
      for await (const chunk of a.chunks) {
        if (chunk.length === 0) continue;
        const children = schema.fields.map((f, j) => vectorFromArray(arrowValues(chunk.map((r) => r[j]), f.type), f.type).data[0]!);
        const data = makeData({ type: new Struct(schema.fields), length: chunk.length, nullCount: 0, children });
        writer.write(new RecordBatch(schema, data));
      }
      writer.finish();
    } catch (err) {
      writer.abort(err);
      throw err;
    }
  })();
  let failed: unknown = null;
  producer.catch((e: unknown) => {
    failed = e;
  });
  for await (const buf of writer) yield buf;
  await producer.catch(() => undefined);
  if (failed) throw failed;
}

async function* parquetStream(store: AnalyticsStore, name: QuestionName, filters: QuestionFilters): AsyncGenerator<Uint8Array> {
  const dir = await mkdtemp(join(tmpdir(), "sievert-parquet-"));
  const file = join(dir, `${name}.parquet`);
  try {
    await store.read(async (c: DuckDBConnection) => {
      const { values, types } = questionParams(name, filters);
      const table = `export_${process.pid}_${Date.now()}_${Math.floor(Math.random() * 1e9)}`;
      await c.run(`CREATE TEMP TABLE ${table} AS ${questionSql(name)}`, values, types);
      try {
        const r = await c.runAndReadAll(`SELECT * FROM ${table} LIMIT 0`);
        const names = r.columnNames();
        const hasUnit = names.includes("unit");
        const units = Object.fromEntries(names.map((n) => [n, columnUnit(n, hasUnit)]).filter(([, u]) => u));
        const kv = `{sievert_question: '${name}', units: '${JSON.stringify(units).replaceAll("'", "''")}'}`;
        await c.run(`COPY ${table} TO '${file.replaceAll("'", "''")}' (FORMAT parquet, KV_METADATA ${kv})`);
      } finally {
        await c.run(`DROP TABLE IF EXISTS ${table}`);
      }
    });
    for await (const buf of createReadStream(file)) yield buf as Uint8Array;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The answer as a byte stream in the given format. */
export async function exportAnswer(store: AnalyticsStore, name: QuestionName, filters: QuestionFilters, format: ExportFormat): Promise<AsyncIterable<Uint8Array>> {
  if (format === "parquet") return parquetStream(store, name, filters);
  const a = await openAnswer(store, name, filters);
  if (format === "json") return jsonStream(name, filters, a);
  if (format === "csv") return csvStream(a);
  return arrowStream(name, a);
}

export function exportFileName(name: QuestionName, format: ExportFormat): string {
  return `sievert-${name}.${format === "arrow" ? "arrows" : format}`;
}
