/**
 * dose_value_rows: the long-form dose values behind the dose_values view, stored instead of
 * joined at query time (sql/analytics/_build_dose_values.sql). Rebuilt for the studies in the
 * writer connection's temp table `touched(study_id)`, after their exam_facts rows are built and
 * mapped: by the sync, and by remapping for the studies whose standard exam changed.
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { buildStatements, withSettings } from "./store.ts";

/**
 * The INSERT of the value rows keeps each join's build side as written (the exam instances, the
 * first events, the groups: never the larger side). DuckDB estimates the touched events far too
 * low and built its hash table on the events joined to their first event (every column of 800k
 * rows) rather than on the 200k exam instances (measured, 1M events: that join 280–340 → 107–153
 * ms, the statement 0.80–0.85 → 0.72–0.81 s).
 */
const VALUE_ROWS_SETTINGS = { disabled_optimizers: "build_side_probe_side" };

/** `allStudies`: touched holds every study (a first copy), see buildStatements. */
export async function rebuildDoseValues(c: DuckDBConnection, allStudies = false): Promise<void> {
  for (const s of buildStatements("_build_dose_values.sql", allStudies)) {
    if (s.startsWith("INSERT INTO dose_value_rows")) await withSettings(c, VALUE_ROWS_SETTINGS, () => c.run(s));
    else await c.run(s);
  }
}
