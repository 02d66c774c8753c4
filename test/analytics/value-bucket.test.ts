/**
 * value_bucket (sql/analytics/_views.sql): the order-preserving bucket behind the DRL comparison's
 * exact quartiles. If two values came out of order, a quartile could be read from the wrong bucket.
 * _build_dose_values.sql computes it in three projections; the stored bucket must be the macro's.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AnalyticsStore } from "../../src/analytics/store.ts";
import { rebuildDoseValues } from "../../src/analytics/dose-values.ts";

let store: AnalyticsStore;

beforeAll(async () => {
  store = await AnalyticsStore.open({ path: ":memory:" });
});
afterAll(async () => {
  await store?.close();
});

async function buckets(values: Array<number | null>, expr = "value_bucket(x)"): Promise<Array<number | null>> {
  return store.read(async (c) => {
    const list = `[${values.map((v) => (v === null ? "NULL" : Number.isNaN(v) ? "'nan'::DOUBLE" : v === Infinity ? "'infinity'::DOUBLE" : v === -Infinity ? "'-infinity'::DOUBLE" : `'${v}'::DOUBLE`)).join(", ")}]`; // text: a number literal is read as a DECIMAL first, which rounds 17 digits
    const r = await c.runAndReadAll(`SELECT ${expr} FROM (SELECT unnest(${list}) AS x, generate_subscripts(${list}, 1) AS i) ORDER BY i`);
    return r.getRowsJS().map((row) => (row[0] === null ? null : Number(row[0])));
  });
}

/** The largest double below x (x > 0, finite). */
function below(x: number): number {
  const b = new Float64Array([x]);
  const u = new BigUint64Array(b.buffer);
  u[0] = u[0]! - 1n;
  return b[0]!;
}

describe("value_bucket", () => {
  it("puts 256 buckets in each power of two, the mantissa's first 8 bits exact", async () => {
    expect(await buckets([1, 1 + 1 / 256, below(1 + 1 / 256), 2, below(2), 0.5, below(1), 3, 1024, 1e-3])).toEqual([
      0, 1, 0, 256, 255, -256, -1, 384, 2560, -10 * 256 + Math.floor((1e-3 / 2 ** -10 - 1) * 256),
    ]);
  });

  it("gives zero and below the lowest bucket, +infinity and NaN the highest, NULL none", async () => {
    expect(await buckets([0, -1, -Infinity, Infinity, NaN, null])).toEqual([-2147483647, -2147483647, -2147483647, 2147483647, 2147483647, null]);
  });

  it("never puts a larger value in a lower bucket, at powers of two and their neighbours and across magnitudes", async () => {
    const values: number[] = [Number.MIN_VALUE, 1e-310, Number.MAX_VALUE];
    for (let e = -60; e <= 60; e++) values.push(2 ** e, below(2 ** e), 2 ** e * (1 + 2 ** -52));
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let k = 0; k < 2000; k++) values.push(rand() * 10 ** Math.floor(rand() * 12 - 4));
    values.sort((a, b) => a - b);
    const got = await buckets(values);
    for (let k = 1; k < values.length; k++) {
      if (got[k]! < got[k - 1]!) throw new Error(`value_bucket(${values[k]}) = ${got[k]} is below value_bucket(${values[k - 1]}) = ${got[k - 1]}`);
    }
    expect(new Set(got).size).toBeGreaterThan(1000); // the values do fall in many buckets
  });

  it("is what the dose values' build stores for each value (it computes the bucket in three steps)", async () => {
    const ctdi = [0.2, 5, 7.5, 100, 1e-3, 12345.678, 2, 0.5];
    const stored = await store.write(async (c) => {
      await c.run(`INSERT INTO exam_facts (study_id, device_id, modality, trust_ods, study_date, age_band, age_known, n_objects, n_events, dlp_total_mgycm, exam_code)
                   VALUES (1, 1, 'CT', 'T1', DATE '2025-01-02', 'adult', true, 1, ${ctdi.length}, 1234.5, 'CT_HEAD')`);
      await c.run(`INSERT INTO events (event_id, object_id, study_id, device_id, modality, is_localiser, ctdivol_mgy)
                   SELECT i, 1, 1, 1, 'CT', false, v FROM (SELECT unnest([${ctdi.map((v) => `'${v}'::DOUBLE`).join(", ")}]) AS v, generate_subscripts([${ctdi.join(", ")}], 1) AS i)`);
      await c.run("CREATE OR REPLACE TEMP TABLE touched AS SELECT 1 AS study_id");
      await rebuildDoseValues(c);
      await c.run("DROP TABLE touched");
      const r = await c.runAndReadAll("SELECT value, value_bucket FROM dose_value_rows ORDER BY value");
      return r.getRowsJS().map(([v, b]) => [Number(v), Number(b)]);
    });
    const values = [...ctdi, 1234.5].sort((a, b) => a - b);
    expect(stored.map(([v]) => v)).toEqual(values);
    expect(stored.map(([, b]) => b)).toEqual(await buckets(values));
  });
});
