/**
 * The data-quality report on hand-built objects with known answers: field shares, expected fields
 * missing (and fields not expected of a kind never reported), unit warnings, implausible values,
 * events repeated by a cumulative report, clock drift, the quarantine summary, the API and the CLI text.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../../src/api/app.ts";
import type { OpenedDatabase, SievertDb } from "../../src/db/client.ts";
import { failedReport, emptyIdentity } from "../../src/dicom/dose-report.ts";
import { storeParsedObject } from "../../src/ingest/store.ts";
import { formatDevice } from "../../src/quality/cli.ts";
import { localToEpoch, studyInstant } from "../../src/quality/clock.ts";
import { quarantineSummary } from "../../src/quality/quarantine.ts";
import { qualityReport, type DeviceQuality, type KindQuality } from "../../src/quality/report.ts";
import { openTestDatabase, resetTestDatabase, TEST_KEY } from "../helpers/db.ts";
import { ctEvent, ctRdsr, dxImage, localizer, store } from "./fixtures.ts";

let opened: OpenedDatabase;
let db: SievertDb;
beforeAll(async () => {
  opened = await openTestDatabase();
  db = opened.db;
}, 60_000);
afterAll(async () => {
  await opened.close();
});
beforeEach(async () => {
  await resetTestDatabase(db);
});

const byModel = (items: DeviceQuality[], model: string): DeviceQuality => {
  const d = items.find((i) => i.device?.model === model);
  if (!d) throw new Error(`no device ${model} in ${items.map((i) => i.label).join(", ")}`);
  return d;
};
const kindOf = (d: DeviceQuality, kind: string): KindQuality => {
  const k = d.kinds.find((x) => x.kind === kind);
  if (!k) throw new Error(`${d.label}: no ${kind}`);
  return k;
};
const field = (k: KindQuality, key: string) => {
  const f = k.fields.find((x) => x.field === key);
  if (!f) throw new Error(`no field ${key}`);
  return f;
};

describe("field presence", () => {
  beforeEach(async () => {
    // Four CT RDSRs of one scanner: CTDIvol in 3 of the 4 non-localizer events; one localizer without dose.
    await store(db, ctRdsr({ sop: "1.9.1", events: [localizer("1.9.1.0"), ctEvent("1.9.1.1", { ctdiVol_mGy: 10 })] }));
    await store(db, ctRdsr({ sop: "1.9.2", events: [ctEvent("1.9.2.1", { ctdiVol_mGy: 12 })], warnings: ['1.9.2.dcm: DLP (DCM 113838): non-UCUM unit "mGycm" accepted, read as mGy·cm'] }));
    await store(db, ctRdsr({ sop: "1.9.3", events: [ctEvent("1.9.3.1", { ctdiVol_mGy: 14 })] }));
    await store(db, ctRdsr({ sop: "1.9.4", events: [ctEvent("1.9.4.1", { ctdiVol_mGy: null, dlp_mGycm: null, phantom: null })], ageYears: null }));
    // A DX image header whose DAP is 10^4 too large (Gy·cm² written as Gy·m²).
    await store(db, dxImage({ sop: "1.8.1", dap_Gym2: 12 }));
  });

  it("counts the share of events and objects carrying each field (3 of 4 → 75 %), localizers not counted where the template says so", async () => {
    const r = await qualityReport(db, {});
    expect(r.total).toBe(2);
    const ct = byModel(r.items, "Revolution");
    expect(ct.objects).toBe(4);
    expect(ct.events).toBe(5);
    const k = kindOf(ct, "ct-rdsr");
    const ctdivol = field(k, "ctdivol");
    expect(ctdivol).toMatchObject({ per: "event", present: 3, of: 5, share: 0.6 });
    expect(ctdivol.expected).toMatchObject({ of: 4, present: 3, missing: 1, excludedEvents: 1, excludedAcquisitionTypes: ["Constant Angle Acquisition"], exampleMissing: "1.9.4" });
    expect(field(k, "patientAge")).toMatchObject({ per: "object", present: 3, of: 4, share: 0.75 });
    expect(field(k, "agd")).toMatchObject({ present: 0, of: 5, expected: null });
  });

  it("reports each expected field missing as a finding naming the device, and nothing for fields the kind is not expected to carry", async () => {
    const ct = byModel((await qualityReport(db, {})).items, "Revolution");
    const messages = ct.findings.filter((f) => f.type === "missing-field").map((f) => f.message);
    expect(messages).toContain("GE MEDICAL SYSTEMS Revolution, station CT1 (RJ1) #1 ct-rdsr CT: CTDIvol missing in 1/4 events (25 %) (1 Constant Angle Acquisition event(s) not counted)");
    expect(messages.some((m) => m.includes("patient age missing in 1/4 objects"))).toBe(true);
    expect(ct.findings.find((f) => f.field === "agd" || f.field === "dap")).toBeUndefined();
    const gap = ct.findings.find((f) => f.field === "phantom");
    expect(gap?.reason).toMatch(/TID 10013 CTDIw Phantom Type \(DCM 113835\)/);
  });

  it("counts unit warnings by category and the unit as written", async () => {
    const k = kindOf(byModel((await qualityReport(db, {})).items, "Revolution"), "ct-rdsr");
    expect(k.warnings).toEqual([expect.objectContaining({ category: "non-ucum-unit", detail: "mGycm", unit: true, warnings: 1, objects: 1, exampleSop: "1.9.2" })]);
  });

  it("flags a value outside its plausibility range with the range's reasoning", async () => {
    const dx = byModel((await qualityReport(db, {})).items, "DRX-1");
    const k = kindOf(dx, "projection-image");
    expect(k.implausible).toEqual([expect.objectContaining({ field: "dap", count: 1, of: 1, max: 12, example: "1.8.1" })]);
    expect(k.implausible[0]?.range.reason).toMatch(/10\^4/);
    expect(dx.findings.map((f) => f.type)).toContain("implausible-value");
  });

  it("filters by modality, trust and study date", async () => {
    expect((await qualityReport(db, { modality: "DX" })).items.map((i) => i.device?.model)).toEqual(["DRX-1"]);
    expect((await qualityReport(db, { trust: "XYZ" })).total).toBe(0);
    expect((await qualityReport(db, { from: "2026-03-01" })).items.map((i) => i.device?.model)).toEqual(["Revolution"]);
    expect((await qualityReport(db, { to: "2026-02-28" })).items.map((i) => i.device?.model)).toEqual(["DRX-1"]);
  });
});

describe("objects that name no device", () => {
  it("are reported together under a device of their own, not dropped", async () => {
    await store(db, dxImage({ sop: "10.1", device: { manufacturer: null, model: null, stationName: null, serialNumber: null } }));
    const r = await qualityReport(db, {});
    expect(r.items).toHaveLength(1);
    expect(r.items[0]).toMatchObject({ deviceId: null, device: null, label: "(objects that name no device)", objects: 1 });
    expect(kindOf(r.items[0] as DeviceQuality, "projection-image").objects).toBe(1);
  });
});

describe("repeated events", () => {
  it("finds an object whose events were already stored from an earlier one, and leaves a continued report with new events alone", async () => {
    await store(db, ctRdsr({ sop: "2.1", study: "2.9", events: [ctEvent("2.e1")] }));
    await store(db, ctRdsr({ sop: "2.2", study: "2.9", events: [ctEvent("2.e1"), ctEvent("2.e2")] })); // cumulative
    await store(db, ctRdsr({ sop: "2.3", study: "2.9", events: [ctEvent("2.e3")] })); // continued: new events only
    const k = kindOf(byModel((await qualityReport(db, {})).items, "Revolution"), "ct-rdsr");
    expect(k.repeatedEvents).toEqual({ objects: 1, events: 1, otherStudy: 0, examples: [{ sopInstanceUid: "2.2", repeated: 1, of: 2, firstStoredIn: "2.1" }] });
    expect(k.warnings.find((w) => w.category === "event-already-stored")).toMatchObject({ objects: 1, exampleSop: "2.2" });
  });

  it("marks a repeated event first stored with another study as an anomaly", async () => {
    await store(db, ctRdsr({ sop: "3.1", study: "3.8", events: [ctEvent("3.e1")] }));
    await store(db, ctRdsr({ sop: "3.2", study: "3.9", events: [ctEvent("3.e1")] }));
    const d = byModel((await qualityReport(db, {})).items, "Revolution");
    expect(kindOf(d, "ct-rdsr").repeatedEvents.otherStudy).toBe(1);
    expect(d.findings.find((f) => f.type === "repeated-events")?.severity).toBe("anomaly");
  });
});

describe("clock drift", () => {
  it("reads DICOM local time in Europe/London (BST in July, GMT in January)", () => {
    expect(new Date(localToEpoch(2026, 7, 1, 10, 0, 0, "Europe/London")).toISOString()).toBe("2026-07-01T09:00:00.000Z");
    expect(new Date(localToEpoch(2026, 1, 15, 10, 0, 0, "Europe/London")).toISOString()).toBe("2026-01-15T10:00:00.000Z");
    expect(studyInstant(null, "2026-07-01", "Europe/London")).toEqual({ at: Date.parse("2026-06-30T23:00:00Z"), precision: "date" });
    expect(studyInstant("garbage", null, "Europe/London")).toBeNull();
  });

  it("flags a device whose objects are dated days after they arrived, whatever the source", async () => {
    await store(db, ctRdsr({ sop: "4.1", studyDate: "2026-07-05", studyDateTime: "2026-07-05T10:00:00" }), { source: "backfill", receivedAt: "2026-07-01T12:00:00Z" });
    await store(db, ctRdsr({ sop: "4.2", studyDate: "2026-07-01", studyDateTime: "2026-07-01T10:00:00" }), { source: "dimse", receivedAt: "2026-07-01T12:00:00Z" });
    const d = byModel((await qualityReport(db, {})).items, "Revolution");
    expect(d.clock.aheadOverTolerance).toBe(1);
    expect(d.clock.maxAheadHours).toBe(93); // 2026-07-05 09:00Z − 2026-07-01 12:00Z
    expect(d.clock.exampleAhead).toBe("4.1");
    expect(d.findings.find((f) => f.type === "clock")?.message).toMatch(/1\/2 objects are dated more than 24 h after Sievert received them \(up to 93 h\)/);
  });

  it("flags a live device always about the same hours off, and one whose live objects arrive weeks late; historical imports are not", async () => {
    // Study 10:00/10:20/10:40 BST (09:00/09:20/09:40Z), received 3 h 05, 3 h 05, 3 h later.
    const times: Array<[string, string]> = [["2026-07-01T10:00:00", "2026-07-01T12:05:00Z"], ["2026-07-02T10:20:00", "2026-07-02T12:25:00Z"], ["2026-07-03T10:40:00", "2026-07-03T12:40:00Z"]];
    for (const [i, [study, received]] of times.entries()) {
      await store(db, ctRdsr({ sop: `5.${i}`, studyDate: study.slice(0, 10), studyDateTime: study }), { source: "stow", receivedAt: received });
    }
    for (const i of [0, 1, 2]) {
      await store(db, dxImage({ sop: `6.${i}`, studyDate: "2026-05-01" }), { source: "dimse", receivedAt: "2026-07-01T12:00:00Z" });
      await store(db, dxImage({ sop: `7.${i}`, studyDate: "2026-05-01", device: { model: "DRX-OLD", stationName: "DX9" } }), { source: "import", receivedAt: "2026-07-01T12:00:00Z" });
    }
    const items = (await qualityReport(db, {})).items;
    const ct = byModel(items, "Revolution");
    expect(ct.clock.constantOffsetHours).toBe(3.1);
    expect(ct.clock.live.objects).toBe(3);
    expect(ct.findings.map((f) => f.message)).toContainEqual(expect.stringMatching(/always arrive about 3.1 h after their study time/));

    const late = byModel(items, "DRX-1");
    expect(late.clock.live.medianDelayDays).toBeCloseTo(61 + 13 / 24, 2); // 2026-04-30 23:00Z → 2026-07-01 12:00Z
    expect(late.findings.map((f) => f.message)).toContainEqual(expect.stringMatching(/live objects arrive a median 61.5 days after their study \(max 61.5\)/));

    const old = byModel(items, "DRX-OLD");
    expect(old.clock.historical.objects).toBe(3);
    expect(old.clock.live.objects).toBe(0);
    expect(old.findings.filter((f) => f.type === "clock")).toEqual([]);
  });
});

describe("quarantine summary", () => {
  it("counts quarantined objects per error code, source and trust, newest first", async () => {
    const q = async (code: "truncated" | "malformed", label: string, source: string, trust: string) =>
      storeParsedObject(db, { report: failedReport(code, `${label}: broken`), identity: emptyIdentity() }, new TextEncoder().encode(label), { source, trustOds: trust, name: label, key: TEST_KEY });
    await q("truncated", "a.dcm", "import", "RJ1");
    await q("truncated", "b.dcm", "import", "RJ1");
    await q("malformed", "c.dcm", "dimse", "RVV");
    const s = await quarantineSummary(db);
    expect(s.total).toBe(3);
    expect(s.byCode).toEqual([{ errorCode: "truncated", objects: 2 }, { errorCode: "malformed", objects: 1 }]);
    expect(s.groups.map((g) => [g.errorCode, g.source, g.trustOds, g.objects])).toEqual([["truncated", "import", "RJ1", 2], ["malformed", "dimse", "RVV", 1]]);
    expect(s.recent.map((r) => r.origin)).toEqual(["c.dcm", "b.dcm", "a.dcm"]);
    expect(s.recent[0]?.device).toBeNull(); // these bytes are not DICOM: nothing to recover
    expect((await quarantineSummary(db, { trust: "RVV" })).total).toBe(1);
  });
});

describe("API and CLI", () => {
  const app = () => createApp({ db, key: TEST_KEY, maxObjectBytes: 1 << 20 });

  it("answers GET /api/v1/quality/devices, one device, a missing device, bad filters, and documents the routes", async () => {
    await store(db, ctRdsr({ sop: "8.1", events: [ctEvent("8.e1", { phantom: null })] }));
    const a = app();
    const list = await a.request("/api/v1/quality/devices?trust=RJ1&modality=CT");
    expect(list.status).toBe(200);
    const body = (await list.json()) as { total: number; items: DeviceQuality[]; resends: { recorded: boolean } };
    expect(body.total).toBe(1);
    expect(body.resends.recorded).toBe(false);
    const id = body.items[0]?.deviceId;
    expect(body.items[0]?.findings.map((f) => f.message)).toContainEqual(expect.stringContaining("CTDI phantom missing in 1/1 events"));

    const one = await a.request(`/api/v1/quality/devices/${id}`);
    expect(one.status).toBe(200);
    expect(((await one.json()) as DeviceQuality).kinds[0]?.kind).toBe("ct-rdsr");
    expect((await a.request("/api/v1/quality/devices/99999")).status).toBe(404);
    expect((await a.request("/api/v1/quality/devices?from=2026-05-01&to=2026-04-01")).status).toBe(400);
    expect((await a.request("/api/v1/quality/devices?modalty=CT")).status).toBe(400);
    expect((await a.request("/api/v1/quality/quarantine-summary?limit=5")).status).toBe(200);
    const flat = (await (await a.request("/api/v1/quality/fields?modality=CT")).json()) as { rows: Array<Record<string, unknown>> };
    expect(flat.rows).toContainEqual(expect.objectContaining({ device_id: id, kind: "ct-rdsr", field: "phantom", per: "event", present: 0, of: 1, share: 0, expected: true, missing: 1, basis: "template" }));
    expect(flat.rows.find((r) => r.field === "agd")).toBeUndefined(); // neither present nor expected of CT

    const doc = (await (await a.request("/openapi.json")).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/api/v1/quality/devices", "/api/v1/quality/devices/{deviceId}", "/api/v1/quality/fields", "/api/v1/quality/quarantine-summary"]));
  });

  it("prints a device as a readable table with its findings", async () => {
    await store(db, ctRdsr({ sop: "9.1", events: [localizer("9.e0"), ctEvent("9.e1", { protocol: null })] }));
    const text = formatDevice(byModel((await qualityReport(db, {})).items, "Revolution"));
    expect(text).toMatch(/^GE MEDICAL SYSTEMS Revolution, station CT1 \(RJ1\) #1\n/);
    expect(text).toMatch(/CTDIvol\s+event\s+1\/2 50 %\s+1\/1 {2}ok \(1 Constant Angle Acquisition not counted\)/);
    expect(text).toMatch(/protocol\s+event\s+1\/2 50 %\s+1\/2 {2}MISSING 1/);
    expect(text).toContain("gap     ct-rdsr CT: protocol missing in 1/2 events (50 %)");
  });
});
