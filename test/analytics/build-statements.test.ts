/**
 * The derived tables' builds filter on the touched studies; on a first copy, where every study is
 * touched, that filter is dropped (store.ts, buildStatements). Guards the spelling the SQL files
 * use, so that a changed filter does not silently keep the semi-joins on a first copy.
 */
import { describe, expect, it } from "vitest";
import { buildStatements, readSql, statements } from "../../src/analytics/store.ts";

describe("buildStatements", () => {
  for (const file of ["_build_exam_facts.sql", "_build_dose_values.sql"]) {
    it(`${file}: keeps the touched filter for some studies and reads no touched table for all of them`, () => {
      const some = buildStatements(file, false);
      const all = buildStatements(file, true);
      expect(some).toEqual(statements(readSql(file)));
      expect(some.filter((s) => s.includes("FROM touched")).length).toBeGreaterThan(0);
      expect(all).toHaveLength(some.length);
      expect(all.filter((s) => s.includes("touched"))).toEqual([]);
    });
  }
});
