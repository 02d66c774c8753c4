/**
 * Applies the exam mapper to exam instances in DuckDB whose mapping is stale (new rows, or
 * the rules changed). Works on the distinct (trust, device, modality, description, protocols)
 * keys, which are few, and writes results back with one UPDATE … FROM. The studies whose
 * standard exam changed are left in temp table `remapped(study_id)`; remapExams rebuilds their
 * dose values (dose_value_rows carries the exam code), the sync does it with its own studies.
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

/** The mapping step on the writer connection; leaves temp table `remapped(study_id)`. */
export async function remapExamsOn(c: DuckDBConnection, mapper: ExamMapper): Promise<number> {
  await c.run("CREATE OR REPLACE TEMP TABLE remapped (study_id INTEGER)");
  const keys = (
    await c.runAndReadAll(
      `SELECT DISTINCT trust_ods, device_id, modality, description, protocols FROM exam_facts
       WHERE map_version IS DISTINCT FROM $v`,
      { v: mapper.version },
    )
  ).getRowsJS() as Array<[string | null, number, string, string | null, string | null]>;
  if (keys.length === 0) return 0;
  const rows = keys.map(([trustOds, deviceId, modality, description, protocols]) => {
    const hit = mapper.map({ trustOds, deviceId, modality, description, protocols: protocols ? protocols.split(PROTOCOL_SEPARATOR) : [] });
    return [trustOds, deviceId, modality, description, protocols, hit?.examCode ?? null, hit?.ruleId ?? null];
  });
  await c.run(
    "CREATE OR REPLACE TEMP TABLE map_result (trust_ods VARCHAR, device_id INTEGER, modality VARCHAR, description VARCHAR, protocols VARCHAR, exam_code VARCHAR, rule_id VARCHAR)",
  );
  await appendRows(
    c,
    "map_result",
    [["trust_ods", VARCHAR], ["device_id", INTEGER], ["modality", VARCHAR], ["description", VARCHAR], ["protocols", VARCHAR], ["exam_code", VARCHAR], ["rule_id", VARCHAR]],
    rows,
  );
  await c.run(
    `INSERT INTO remapped
     SELECT DISTINCT f.study_id FROM exam_facts f JOIN map_result m
       ON f.trust_ods IS NOT DISTINCT FROM m.trust_ods AND f.device_id = m.device_id AND f.modality = m.modality
      AND f.description IS NOT DISTINCT FROM m.description AND f.protocols IS NOT DISTINCT FROM m.protocols
     WHERE f.map_version IS DISTINCT FROM $v AND f.exam_code IS DISTINCT FROM m.exam_code`,
    { v: mapper.version },
  );
  const r = await c.run(
    `UPDATE exam_facts f SET exam_code = m.exam_code, map_rule = m.rule_id, map_version = $v
     FROM map_result m
     WHERE f.map_version IS DISTINCT FROM $v
       AND f.trust_ods IS NOT DISTINCT FROM m.trust_ods AND f.device_id = m.device_id AND f.modality = m.modality
       AND f.description IS NOT DISTINCT FROM m.description AND f.protocols IS NOT DISTINCT FROM m.protocols`,
    { v: mapper.version },
  );
  await c.run("DROP TABLE map_result");
  return r.rowsChanged;
}
