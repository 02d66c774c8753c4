/**
 * _build_exam_facts.sql: an exam instance's protocols and CT phantoms. The build reads an exam's
 * single protocol and phantom from min = max and aggregates lists only for exams with several, so
 * both paths are checked here: the distinct non-localiser protocols sorted and joined by " | ",
 * the distinct phantoms sorted and joined by ",", NULLs left out, and NULL where there is none.
 * And an exam instance's first object, which its exam-level values link to.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AnalyticsStore, readSql, statements, withSettings } from "../../src/analytics/store.ts";
import { unmappedExams } from "../../src/web/data.ts";

let store: AnalyticsStore;

beforeAll(async () => {
  store = await AnalyticsStore.open({ path: ":memory:" });
});
afterAll(async () => {
  await store?.close();
});

type Event = { protocol: string | null; phantom: string | null; localiser?: boolean; dlp?: number };

/** Builds exam_facts rows for one CT object per study, with the given events; returns study → [protocols, phantoms, n_events, DLP]. */
async function build(studies: Event[][]): Promise<Map<number, [string | null, string | null, number, number | null]>> {
  return store.write(async (c) => {
    await c.run("DELETE FROM objects");
    await c.run("DELETE FROM events");
    let eventId = 0;
    for (const [k, events] of studies.entries()) {
      const study = k + 1;
      await c.run(
        `INSERT INTO objects (object_id, sop_instance_uid, kind, modality, trust_ods, device_id, study_id, study_date, description)
         VALUES ($id, $sop, 'ct-rdsr', 'CT', 'RVV', 1, $id, '2026-01-05', 'CT Head')`,
        { id: study, sop: `2.25.${study}` },
      );
      for (const e of events) {
        await c.run(
          `INSERT INTO events (event_id, object_id, study_id, device_id, modality, protocol, is_localiser, dlp_mgycm, phantom)
           VALUES ($e, $s, $s, 1, 'CT', $p, $l, $dlp, $ph)`,
          { e: ++eventId, s: study, p: e.protocol, l: e.localiser ?? false, dlp: e.dlp ?? 10, ph: e.phantom },
        );
      }
    }
    await c.run("CREATE OR REPLACE TEMP TABLE touched AS SELECT DISTINCT study_id FROM objects");
    for (const s of statements(readSql("_build_exam_facts.sql"))) await c.run(s);
    const rows = (await c.runAndReadAll("SELECT study_id, protocols, ct_phantoms, n_events, dlp_total_mgycm FROM new_exam_facts")).getRowsJS();
    await c.run("DROP TABLE new_exam_facts");
    await c.run("DROP TABLE touched");
    return new Map(rows.map((r) => [Number(r[0]), [r[1] as string | null, r[2] as string | null, Number(r[3]), r[4] === null ? null : Number(r[4])]]));
  });
}

describe("exam_facts protocols and phantoms", () => {
  it("gives an exam's one protocol and one phantom as they are, and its several sorted and distinct", async () => {
    const got = await build([
      // one protocol, one phantom (the localiser's own protocol is left out)
      [{ protocol: "Topogram", phantom: "body32", localiser: true }, { protocol: "Head Routine", phantom: "body32" }, { protocol: "Head Routine", phantom: "body32" }],
      // several protocols, given out of order and repeated; one phantom
      [{ protocol: "Venous", phantom: "body32" }, { protocol: "Arterial", phantom: "body32" }, { protocol: "Venous", phantom: "body32" }],
      // one protocol, two phantoms (the localiser's phantom counts)
      [{ protocol: "Scout", phantom: "head16", localiser: true }, { protocol: "Neck", phantom: "body32" }],
      // several of both
      [{ protocol: "B", phantom: "head16" }, { protocol: "A", phantom: "body32" }],
    ]);
    expect(got.get(1)).toEqual(["Head Routine", "body32", 3, 30]);
    expect(got.get(2)).toEqual(["Arterial | Venous", "body32", 3, 30]);
    expect(got.get(3)).toEqual(["Neck", "body32,head16", 2, 20]);
    expect(got.get(4)).toEqual(["A | B", "body32,head16", 2, 20]);
  });

  it("leaves NULL protocols and phantoms out, and gives NULL where an exam has none", async () => {
    const got = await build([
      [{ protocol: null, phantom: null }, { protocol: "Chest", phantom: "body32" }],
      [{ protocol: "Scout", phantom: null, localiser: true }, { protocol: null, phantom: null }],
      [{ protocol: "Chest", phantom: null }, { protocol: "Abdomen", phantom: null }, { protocol: null, phantom: "body32" }],
    ]);
    expect(got.get(1)).toEqual(["Chest", "body32", 2, 20]);
    expect(got.get(2)).toEqual([null, null, 2, 20]);
    expect(got.get(3)).toEqual(["Abdomen | Chest", "body32", 3, 30]);
  });
});

describe("withSettings", () => {
  const current = (store: AnalyticsStore) =>
    store.write(async (c) => String((await c.runAndReadAll("SELECT current_setting('disabled_optimizers')")).getRowsJS()[0]![0]));

  it("sets DuckDB settings for one piece of work and resets them after it, also when it fails", async () => {
    const during = await store.write((c) =>
      withSettings(c, { disabled_optimizers: "build_side_probe_side" }, async () =>
        String((await c.runAndReadAll("SELECT current_setting('disabled_optimizers')")).getRowsJS()[0]![0]),
      ),
    );
    expect(during).toBe("build_side_probe_side");
    expect(await current(store)).toBe("");
    await expect(
      store.write((c) => withSettings(c, { disabled_optimizers: "build_side_probe_side" }, () => c.run("SELECT * FROM no_such_table"))),
    ).rejects.toThrow(/no_such_table/);
    expect(await current(store)).toBe("");
  });
});

describe("exam_facts first object", () => {
  it("is the instance's first stored object (lowest id), and the unmapped exams list links to its SOP instance", async () => {
    // Two objects of one CT exam, stored in this order: by text the later one's UID sorts first
    // ("2.25.10" < "2.25.9"), so the link must follow the id, not the UID.
    const first = await store.write(async (c) => {
      for (const t of ["objects", "events", "exam_facts"]) await c.run(`DELETE FROM ${t}`);
      for (const [id, sop] of [[11, "2.25.9"], [12, "2.25.10"]] as const) {
        await c.run(
          `INSERT INTO objects (object_id, sop_instance_uid, kind, modality, trust_ods, device_id, study_id, study_date, description)
           VALUES ($id, $sop, 'ct-rdsr', 'CT', 'RVV', 1, 7, '2026-01-05', 'CT Head')`,
          { id, sop },
        );
        await c.run(
          `INSERT INTO events (event_id, object_id, study_id, device_id, modality, protocol, is_localiser, dlp_mgycm) VALUES ($id, $id, 7, 1, 'CT', 'Head', false, 100)`,
          { id },
        );
      }
      await c.run("CREATE OR REPLACE TEMP TABLE touched AS SELECT DISTINCT study_id FROM objects");
      for (const s of statements(readSql("_build_exam_facts.sql"))) await c.run(s);
      await c.run("INSERT INTO exam_facts SELECT * FROM new_exam_facts"); // not mapped: exam_code NULL
      await c.run("DROP TABLE new_exam_facts");
      await c.run("DROP TABLE touched");
      return (await c.runAndReadAll("SELECT first_object_id, n_objects FROM exam_facts WHERE study_id = 7")).getRowsJS();
    });
    expect(first).toEqual([[11, 2]]);
    const unmapped = await unmappedExams(store, {});
    expect(unmapped.map((r) => [r.study_id, r.sop_instance_uid])).toEqual([[7, "2.25.9"]]);
  });
});
