/**
 * Applies the exam mapper to exam instances in DuckDB: new ones as the sync inserts them, and
 * those whose mapping is stale (the rules changed). Works on the distinct (trust, device,
 * modality, description, protocols) keys, which are few. Stale rows are updated with one
 * UPDATE … FROM; the studies whose standard exam changed are left in temp table
 * `remapped(study_id)`, and remapExams rebuilds their dose values (dose_value_rows' group key
 * stands for the exam code); the sync does it with its own studies.
 */
import { INTEGER, VARCHAR, type DuckDBConnection } from "@duckdb/node-api";
import type { AnalyticsStore } from "./store.ts";
import { appendRows } from "./append.ts";
import type { ExamMapper } from "./mapping.ts";
import { rebuildDoseValues } from "./dose-values.ts";

export const PROTOCOL_SEPARATOR = " | ";

export async function remapExams(store: AnalyticsStore, mapper: ExamMapper): Promise<number> {
  return store.write(async (c) => {
    const n = await remapExamsOn(c, mapper);
    if (Number((await c.runAndReadAll("SELECT count(*) FROM remapped")).getRowsJS()[0]![0]) > 0) {
      await c.run("CREATE OR REPLACE TEMP TABLE touched AS SELECT study_id FROM remapped");
      await rebuildDoseValues(c);
      await c.run("DROP TABLE touched");
    }
    await c.run("DROP TABLE remapped");
    return n;
  });
}

/** The exam-instance key the mapper reads, and how two rows' keys are the same (NULLs equal). */
const KEY_COLUMNS = "trust_ods, device_id, modality, description, protocols";
const sameKey = (a: string, b: string): string =>
  `${a}.trust_ods IS NOT DISTINCT FROM ${b}.trust_ods AND ${a}.device_id = ${b}.device_id AND ${a}.modality = ${b}.modality
   AND ${a}.description IS NOT DISTINCT FROM ${b}.description AND ${a}.protocols IS NOT DISTINCT FROM ${b}.protocols`;

/**
 * Maps the distinct keys of `source` (a table or subquery with the key columns) in JavaScript and
 * leaves the answers in temp table `map_result` (key columns, exam_code, rule_id). Returns the
 * number of keys.
 */
async function mapDistinctKeys(c: DuckDBConnection, mapper: ExamMapper, source: string, params: Record<string, string> = {}): Promise<number> {
  const keys = (await c.runAndReadAll(`SELECT DISTINCT ${KEY_COLUMNS} FROM ${source}`, params)).getRowsJS() as Array<
    [string | null, number, string, string | null, string | null]
  >;
  await c.run(
    "CREATE OR REPLACE TEMP TABLE map_result (trust_ods VARCHAR, device_id INTEGER, modality VARCHAR, description VARCHAR, protocols VARCHAR, exam_code VARCHAR, rule_id VARCHAR)",
  );
  const rows = keys.map(([trustOds, deviceId, modality, description, protocols]) => {
    const hit = mapper.map({ trustOds, deviceId, modality, description, protocols: protocols ? protocols.split(PROTOCOL_SEPARATOR) : [] });
    return [trustOds, deviceId, modality, description, protocols, hit?.examCode ?? null, hit?.ruleId ?? null];
  });
  await appendRows(
    c,
    "map_result",
    [["trust_ods", VARCHAR], ["device_id", INTEGER], ["modality", VARCHAR], ["description", VARCHAR], ["protocols", VARCHAR], ["exam_code", VARCHAR], ["rule_id", VARCHAR]],
    rows,
  );
  return keys.length;
}

/**
 * Moves the exam instances the sync built into temp table `new_exam_facts` (_build_exam_facts.sql)
 * into exam_facts with their standard exam already mapped: one INSERT, where mapping after the
 * insert took an UPDATE of every new row. Returns the number of exam instances inserted.
 */
export async function insertMappedExamFacts(c: DuckDBConnection, mapper: ExamMapper): Promise<number> {
  await mapDistinctKeys(c, mapper, "new_exam_facts");
  const r = await c.run(
    `INSERT INTO exam_facts
     SELECT f.* REPLACE (m.exam_code AS exam_code, m.rule_id AS map_rule, $v AS map_version)
     FROM new_exam_facts f LEFT JOIN map_result m ON ${sameKey("f", "m")}`,
    { v: mapper.version },
  );
  await c.run("DROP TABLE map_result");
  await c.run("DROP TABLE new_exam_facts");
  return Number(r.rowsChanged);
}

/** The mapping step on the writer connection; leaves temp table `remapped(study_id)`. */
export async function remapExamsOn(c: DuckDBConnection, mapper: ExamMapper): Promise<number> {
  await c.run("CREATE OR REPLACE TEMP TABLE remapped (study_id INTEGER)");
  const stale = "(SELECT * FROM exam_facts WHERE map_version IS DISTINCT FROM $v)";
  if ((await mapDistinctKeys(c, mapper, stale, { v: mapper.version })) === 0) {
    await c.run("DROP TABLE map_result");
    return 0;
  }
  await c.run(
    `INSERT INTO remapped
     SELECT DISTINCT f.study_id FROM exam_facts f JOIN map_result m ON ${sameKey("f", "m")}
     WHERE f.map_version IS DISTINCT FROM $v AND f.exam_code IS DISTINCT FROM m.exam_code`,
    { v: mapper.version },
  );
  const r = await c.run(
    `UPDATE exam_facts f SET exam_code = m.exam_code, map_rule = m.rule_id, map_version = $v
     FROM map_result m
     WHERE f.map_version IS DISTINCT FROM $v AND ${sameKey("f", "m")}`,
    { v: mapper.version },
  );
  await c.run("DROP TABLE map_result");
  return r.rowsChanged;
}
