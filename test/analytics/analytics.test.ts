import { DuckDBInstance } from "@duckdb/node-api";
import { tableFromIPC } from "apache-arrow";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/api/app.ts";
import { answerRows, exportAnswer, type ExportFormat } from "../../src/analytics/export.ts";
import { AnalyticsService } from "../../src/analytics/service.ts";
import { loadReferenceData } from "../../src/analytics/reference-data.ts";
import type { OpenedDatabase } from "../../src/db/client.ts";
import { openTestDatabase, TEST_KEY } from "../helpers/db.ts";
import { ctHead, examDlp, quantile, standardExams, writeExams, type ExamSpec, type Fixture } from "./fixture.ts";

let opened: OpenedDatabase;
let svc: AnalyticsService;
let fx: Fixture;
const ref = loadReferenceData();
const MIN_N = ref.settings.minSampleSize.byModality.CT!;

const adultHeads = (device: string): ExamSpec[] => fx.exams.filter((e) => e.deviceKey === device && e.description === "CT Head" && (e.ageYears ?? 99) >= 16);
const spiralCtdi = (es: ExamSpec[]): number[] => es.flatMap((e) => (e.sequences ?? []).map((s) => s.ctdivol));

beforeAll(async () => {
  opened = await openTestDatabase();
  fx = await writeExams(opened.db, standardExams());
  svc = await AnalyticsService.open(opened.db, { path: ":memory:" });
  await svc.sync({ batchSize: 37 }); // small batches: many keyset pages
}, 120_000);
afterAll(async () => {
  await svc?.close();
  await opened?.close();
});

/** The rows of db.execute, whichever driver answered (PGlite: { rows }, postgres.js: the array). */
function pgRows(result: unknown): Array<Record<string, unknown>> {
  return ((result as { rows?: Array<Record<string, unknown>> }).rows ?? (result as Array<Record<string, unknown>>));
}

async function rows(q: Parameters<typeof answerRows>[1], f: Parameters<typeof answerRows>[2] = {}): Promise<Record<string, unknown>[]> {
  return (await answerRows(svc.store, q, f)).rows;
}

describe("sync", () => {
  it("copies every object and event once", async () => {
    const st = await svc.status();
    const pgEvents = await opened.db.execute(sql`select count(*)::int as n from irradiation_events`);
    const n = Number(pgRows(pgEvents)[0]!.n);
    expect(st.events).toBe(n);
    expect(st.objects).toBe(fx.exams.length);
    expect(st.exam_instances).toBe(fx.exams.length);
  });

  it("is incremental, restartable after a partial batch, and picks up late commits under the mark", async () => {
    const before = (await svc.status()) as { events: number; hwm_events: string };
    await writeExams(opened.db, [ctHead("BBB", "B1", "2025-06-30", 45, 44, 744)], fx);
    const r1 = await svc.sync();
    expect(r1.objects).toBe(1);
    expect(r1.events).toBe(2);
    // crash simulation: the mark falls back while rows above it stay (flushed, mark not written)
    await svc.store.write((c) => c.run("UPDATE sync_state SET value = $v WHERE name = 'hwm_events'", { v: String(Number(before.hwm_events)) }));
    // late commit simulation: a row under the mark is missing from the copy
    await svc.store.write((c) => c.run("DELETE FROM events WHERE event_id = (SELECT min(event_id) FROM events)"));
    const r2 = await svc.sync();
    expect(r2.lateRows).toBe(1);
    const st = (await svc.status()) as { events: number };
    expect(st.events).toBe(before.events + 2);
    const dup = await svc.store.read(async (c) => (await c.runAndReadAll("SELECT count(*) - count(DISTINCT event_id) FROM events")).getRowsJS()[0]![0]);
    expect(Number(dup)).toBe(0);
    // fixture bookkeeping: the added exam is part of B1 (still under the minimum sample)
  });
});

describe("DRL comparison", () => {
  it("gives n, quartiles, median, DRL, ratio and status per device, computed independently", async () => {
    const out = await rows("drl-comparison", { exam: "CT_HEAD", trust: "AAA" });
    for (const device of ["A1", "A2"]) {
      const es = adultHeads(device);
      const dlp = es.map(examDlp);
      const row = out.find((r) => r.device_id === fx.deviceIds[device] && r.quantity === "dlp_mGycm" && r.age_band === "adult")!;
      expect(row.n_exams).toBe(es.length);
      expect(row.median as number).toBeCloseTo(quantile(dlp, 0.5), 9);
      expect(row.p25 as number).toBeCloseTo(quantile(dlp, 0.25), 9);
      expect(row.p75 as number).toBeCloseTo(quantile(dlp, 0.75), 9);
      expect(row.drl).toBe(790);
      expect(row.ratio_median_to_drl as number).toBeCloseTo(quantile(dlp, 0.5) / 790, 9);
      expect(row.status).toBe(quantile(dlp, 0.5) > 790 ? "above" : "below");

      const ct = spiralCtdi(es);
      const crow = out.find((r) => r.device_id === fx.deviceIds[device] && r.quantity === "ctdivol_mGy" && r.age_band === "adult")!;
      expect(crow.n_values).toBe(ct.length); // localisers excluded
      expect(crow.median as number).toBeCloseTo(quantile(ct, 0.5), 9);
      expect(crow.drl).toBe(47);
    }
    const a1 = out.find((r) => r.device_id === fx.deviceIds.A1 && r.quantity === "dlp_mGycm" && r.age_band === "adult")!;
    const a2 = out.find((r) => r.device_id === fx.deviceIds.A2 && r.quantity === "dlp_mGycm" && r.age_band === "adult")!;
    expect(a1.status).toBe("below");
    expect(a2.status).toBe("above");
  });

  it("says insufficient data below the minimum sample", async () => {
    const out = await rows("drl-comparison", { exam: "CT_HEAD", trust: "BBB" });
    const row = out.find((r) => r.quantity === "dlp_mGycm")!;
    expect(row.n_exams as number).toBeLessThan(MIN_N);
    expect(row.min_sample_size).toBe(MIN_N);
    expect(row.status).toBe("insufficient data");
  });

  it("compares paediatric exams only with paediatric levels (none retrieved → no drl), never the adult DRL", async () => {
    const out = await rows("drl-comparison", { exam: "CT_HEAD", device: fx.deviceIds.A1 });
    const paed = out.filter((r) => r.age_band !== "adult");
    expect(paed.length).toBeGreaterThan(0);
    for (const r of paed) {
      expect(r.age_band).toBe("paed_1_5");
      expect(r.drl).toBeNull();
      expect(r.status).toBe("no drl");
    }
    const paedN = fx.exams.filter((e) => e.deviceKey === "A1" && (e.ageYears ?? 99) < 16).length;
    expect(paed.find((r) => r.quantity === "dlp_mGycm")!.n_exams).toBe(paedN);
  });

  it("compares NM activity per kg with the weight-based level", async () => {
    const out = await rows("drl-comparison", { modality: "NM" });
    const nm = fx.exams.filter((e) => e.modality === "NM");
    const perKg = nm.map((e) => e.activityMBq! / e.weightKg!);
    const row = out.find((r) => r.quantity === "activity_MBq_per_kg")!;
    expect(row.median as number).toBeCloseTo(quantile(perKg, 0.5), 9);
    expect(row.drl).toBe(3.5);
    expect(row.status).toBe(quantile(perKg, 0.5) > 3.5 ? "above" : "below");
    const abs = out.find((r) => r.quantity === "activity_MBq")!;
    expect(abs.status).toBe("no drl"); // fixed-activity DRL not retrieved (UNVERIFIED)
  });

  it("groups by month and quarter in trends", async () => {
    const m = await rows("trends", { exam: "CT_HEAD", trust: "AAA", period: "month" });
    const es = fx.exams.filter((e) => e.trust === "AAA" && e.description === "CT Head" && (e.ageYears ?? 99) >= 16);
    const march = es.filter((e) => e.date.startsWith("2025-03")).map(examDlp);
    const row = m.find((r) => r.period === "2025-03" && r.quantity === "dlp_mGycm" && r.age_band === "adult")!;
    expect(row.n_exams).toBe(march.length);
    expect(row.median as number).toBeCloseTo(quantile(march, 0.5), 9);
    const q = await rows("trends", { exam: "CT_HEAD", trust: "AAA", period: "quarter" });
    const q1 = es.filter((e) => e.date < "2025-04").map(examDlp);
    expect(q.find((r) => r.period === "2025-Q1" && r.quantity === "dlp_mGycm" && r.age_band === "adult")!.median as number).toBeCloseTo(quantile(q1, 0.5), 9);
  });

  it("lists outliers above k × DRL with a link to the object", async () => {
    const out = await rows("outliers", { exam: "CT_HEAD", k: 2 });
    const dlp = out.filter((r) => r.quantity === "dlp_mGycm");
    const expected = fx.exams.filter((e) => e.description === "CT Head" && (e.ageYears ?? 99) >= 16 && examDlp(e) > 2 * 790);
    expect(dlp.length).toBe(expected.length);
    expect(dlp[0]!.link).toMatch(/^\/api\/v1\/objects\/2\.25\./);
    const ctdi = out.filter((r) => r.quantity === "ctdivol_mGy");
    expect(ctdi.length).toBe(spiralCtdi(expected).filter((v) => v > 94).length);
    expect(ctdi[0]!.link).toMatch(/^\/api\/v1\/objects\//);
    // every link names a dose object of the outlier's own study (an exam-level value: its exam's
    // first object; an event: the event's object), as Postgres holds it
    for (const r of [...dlp, ...ctdi]) {
      const uid = String(r.link).replace("/api/v1/objects/", "");
      expect(uid).toBe(r.sop_instance_uid);
      const found = pgRows(await opened.db.execute(sql`select study_id from dose_objects where sop_instance_uid = ${uid}`));
      expect(found.map((x) => Number(x.study_id))).toEqual([Number(r.study_id)]);
    }
    const eventObject = pgRows(
      await opened.db.execute(sql`select o.sop_instance_uid from irradiation_events e join dose_objects o on o.id = e.dose_object_id where e.id = ${Number(ctdi[0]!.event_id)}`),
    );
    expect(`/api/v1/objects/${String(eventObject[0]!.sop_instance_uid)}`).toBe(ctdi[0]!.link);
  });
});

describe("local DRL (ICRP 135)", () => {
  it("is the 75th percentile of qualifying room medians, computed independently", async () => {
    const out = await rows("local-drl", { exam: "CT_HEAD" });
    const row = out.find((r) => r.quantity === "dlp_mGycm" && r.age_band === "adult")!;
    const rooms = ["A1", "A2", "B1"].map((d) => adultHeads(d).map(examDlp));
    const qualifying = rooms.filter((v) => v.length >= MIN_N).map((v) => quantile(v, 0.5));
    expect(row.n_units_included).toBe(qualifying.length);
    expect(row.n_units_excluded_small_sample).toBe(rooms.length - qualifying.length);
    expect(row.local_drl as number).toBeCloseTo(quantile(qualifying, ref.settings.localDrl.percentile), 9);
    expect(row.min_sample_size).toBe(MIN_N);
    expect(row.national_drl).toBe(790);
    // facility level: only AAA has enough exams
    const t = (await rows("local-drl", { exam: "CT_HEAD", level: "trust" })).find((r) => r.quantity === "dlp_mGycm" && r.age_band === "adult")!;
    expect(t.n_units_included).toBe(1);
    expect(t.local_drl).toBeNull();
    expect(t.status).toBe("insufficient data");
  });
});

describe("SSDE and effective dose", () => {
  it("applies a·exp(−b·Dw) for the phantom of the sequence where Dw is known", async () => {
    const out = await rows("ssde", { device: fx.deviceIds.A1, exam: "CT_HEAD" });
    const row = out.find((r) => r.age_band === "adult")!;
    const c = ref.ssde.coefficients.find((k) => k.phantom === "head16")!;
    const withSize = adultHeads("A1").flatMap((e) => (e.sequences ?? []).filter((s) => s.wedMm != null));
    const ssde = withSize.map((s) => c.a * Math.exp(-c.bPerCm * (s.wedMm! / 10)) * s.ctdivol);
    expect(row.n_with_size).toBe(withSize.length);
    expect(row.median_ssde_estimate_mGy as number).toBeCloseTo(quantile(ssde, 0.5), 9);
    expect(row.label).toBe("estimate");
    expect(String(row.coefficient_source)).toContain("S8b");
  });

  it("estimates effective dose from DLP with the head k-factor by age group", async () => {
    const out = await rows("effective-dose", { device: fx.deviceIds.A1, exam: "CT_HEAD" });
    const adult = out.find((r) => r.age_band === "adult")!;
    const k = Number(ref.kFactors.factors.find((f) => f.region === "head")!.adult);
    expect(adult.median_effective_dose_estimate_mSv as number).toBeCloseTo(quantile(adultHeads("A1").map(examDlp), 0.5) * k, 9);
    expect(adult.label).toBe("estimate");
    const paed = out.find((r) => r.age_band === "paed_1_5")!;
    const kids = fx.exams.filter((e) => e.deviceKey === "A1" && (e.ageYears ?? 99) < 16);
    const kK = Number(ref.kFactors.factors.find((f) => f.region === "head")!["1y"]);
    expect(paed.median_effective_dose_estimate_mSv as number).toBeCloseTo(quantile(kids.map(examDlp), 0.5) * kK, 9);
  });
});

describe("exam mapping", () => {
  it("lists unmapped exams most frequent first, and a new rule maps them", async () => {
    const before = await rows("unmapped");
    expect(before.map((r) => [r.description, r.n_exams])).toEqual([
      ["CT Mystery", 3],
      ["CT Oddity", 1],
    ]);
    const rule = await svc.addRule({ examCode: "CT_ABDO_PELVIS", field: "protocol", match: "exact", pattern: "myst", modality: "CT", priority: 0 });
    const after = await rows("unmapped");
    expect(after.map((r) => r.description)).toEqual(["CT Oddity"]);
    const drl = await rows("drl-comparison", { exam: "CT_ABDO_PELVIS" });
    expect(drl.find((r) => r.quantity === "dlp_mGycm")!.n_exams).toBe(3);
    expect(await svc.deleteRule(Number(rule.id.split(":")[1]))).toBe(true);
    expect((await rows("unmapped")).length).toBe(2);
  });
});

describe("exports", () => {
  const dir = mkdtempSync(join(tmpdir(), "sievert-export-test-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function bytes(format: ExportFormat): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const b of await exportAnswer(svc.store, "drl-comparison", { exam: "CT_HEAD" }, format)) parts.push(Buffer.from(b));
    return Buffer.concat(parts);
  }

  it("Parquet reads back with DuckDB, with units in the key-value metadata", async () => {
    const expected = await rows("drl-comparison", { exam: "CT_HEAD" });
    const file = join(dir, "drl.parquet");
    writeFileSync(file, await bytes("parquet"));
    const inst = await DuckDBInstance.create(":memory:");
    const c = await inst.connect();
    const back = (await c.runAndReadAll(`SELECT device_id, quantity, age_band, median, status FROM read_parquet('${file}') ORDER BY ALL`)).getRowObjectsJS();
    expect(back.length).toBe(expected.length);
    const one = expected.find((r) => r.device_id === fx.deviceIds.A2 && r.quantity === "dlp_mGycm" && r.age_band === "adult")!;
    const got = back.find((r) => r.device_id === fx.deviceIds.A2 && r.quantity === "dlp_mGycm" && r.age_band === "adult")!;
    expect(got.median).toBeCloseTo(one.median as number, 9);
    const kv = (await c.runAndReadAll(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${file}')`)).getRowObjectsJS();
    const units = JSON.parse(String(kv.find((r) => r.k === "units")!.v)) as Record<string, string>;
    expect(units.median).toBe("see unit column");
    c.closeSync();
    inst.closeSync();
  });

  it("Arrow IPC reads back with apache-arrow, units as field metadata", async () => {
    const expected = await rows("drl-comparison", { exam: "CT_HEAD" });
    const table = tableFromIPC(await bytes("arrow"));
    expect(table.numRows).toBe(expected.length);
    expect(table.schema.fields.find((f) => f.name === "median")!.metadata.get("unit")).toBe("see unit column");
    const medians = table.getChild("median")!.toArray() as Float64Array;
    expect(Array.from(medians)).toEqual(expected.map((r) => r.median));
    expect(table.getChild("status")!.get(0)).toBe(expected[0]!.status);
  });

  it("CSV and JSON carry the same rows", async () => {
    const expected = await rows("drl-comparison", { exam: "CT_HEAD" });
    const csv = (await bytes("csv")).toString("utf8").trim().split("\r\n");
    expect(csv.length).toBe(expected.length + 1);
    expect(csv[0]!.split(",")).toContain("ratio_median_to_drl");
    const json = JSON.parse((await bytes("json")).toString("utf8")) as { rows: unknown[]; columns: Array<{ name: string; unit: string | null }> };
    expect(json.rows).toEqual(expected);
    expect(json.columns.find((c) => c.name === "median")!.unit).toBe("see unit column");
  });
});

describe("API", () => {
  it("serves answers in every format and maps through exam-rules", async () => {
    const app = createApp({ db: opened.db, key: TEST_KEY, maxObjectBytes: 1024, analytics: svc } as Parameters<typeof createApp>[0]);
    const json = await app.request("/api/v1/analytics/drl-comparison?exam=CT_HEAD&trust=AAA");
    expect(json.status).toBe(200);
    const body = (await json.json()) as { rows: Array<Record<string, unknown>> };
    expect(body.rows.some((r) => r.status === "above")).toBe(true);
    const csv = await app.request("/api/v1/analytics/trends?format=csv&period=quarter");
    expect(csv.headers.get("content-type")).toContain("text/csv");
    const arrow = await app.request("/api/v1/analytics/device-comparison?format=arrow&exam=CT_HEAD");
    expect(tableFromIPC(new Uint8Array(await arrow.arrayBuffer())).numRows).toBeGreaterThan(0);
    const pq = await app.request("/api/v1/analytics/local-drl?format=parquet");
    expect(Buffer.from(await pq.arrayBuffer()).subarray(0, 4).toString()).toBe("PAR1");
    expect((await app.request("/api/v1/analytics/nonsense")).status).toBe(400);
    expect((await app.request("/api/v1/analytics/drl-comparison?from=2025-05-01&to=2025-01-01")).status).toBe(400);

    const add = await app.request("/api/v1/analytics/exam-rules", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ examCode: "CT_CHEST", field: "description", match: "exact", pattern: "CT Oddity" }),
    });
    expect(add.status).toBe(201);
    const { rule } = (await add.json()) as { rule: { id: string } };
    const unmapped = (await (await app.request("/api/v1/analytics/unmapped")).json()) as { rows: Array<{ description: string }> };
    expect(unmapped.rows.map((r) => r.description)).toEqual(["CT Mystery"]);
    expect((await app.request(`/api/v1/analytics/exam-rules/${rule.id.split(":")[1]}`, { method: "DELETE" })).status).toBe(204);
    const bad = await app.request("/api/v1/analytics/exam-rules", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ examCode: "NOPE", field: "description", pattern: "x" }) });
    expect(bad.status).toBe(400);
    const doc = (await (await app.request("/openapi.json")).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toContain("/api/v1/analytics/{question}");
  });
});

describe("reference data", () => {
  it("every DRL row has a source, UNVERIFIED rows are flagged, values match domain.md §3.2", () => {
    const set = ref.drlSets.find((s) => s.id === "UK-NDRL-2024")!;
    for (const r of set.rows) expect(r.source.length).toBeGreaterThan(10);
    const get = (exam: string, q: string) => set.rows.find((r) => r.examCode === exam && r.ageBand === "adult" && r.quantity === q)!;
    expect(get("CT_HEAD", "dlp_mGycm").value).toBe(790);
    expect(get("CT_CHEST", "ctdivol_mGy").value).toBe(8.5);
    expect(get("CT_CAP", "ctdivol_mGy").value).toBeNull();
    expect(set.rows.filter((r) => r.value === null).every((r) => !r.verified || r.note?.includes("no CTDIvol NDRL"))).toBe(true);
    expect(readFileSync(new URL("../../src/analytics/data/settings.json", import.meta.url), "utf8")).toContain("UNVERIFIED");
  });
});
