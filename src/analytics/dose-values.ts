/**
 * dose_value_rows: the long-form dose values behind the dose_values view, stored instead of
 * joined at query time (sql/analytics/_build_dose_values.sql). Rebuilt for the studies in the
 * writer connection's temp table `touched(study_id)`, after their exam_facts rows are built and
 * mapped: by the sync, and by remapping for the studies whose standard exam changed.
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { readSql, statements } from "./store.ts";

let buildStatements: string[] | null = null;

export async function rebuildDoseValues(c: DuckDBConnection): Promise<void> {
  buildStatements ??= statements(readSql("_build_dose_values.sql"));
  for (const s of buildStatements) await c.run(s);
}
