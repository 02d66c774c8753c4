import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OpenedDatabase, SievertDb } from "../../src/db/client.ts";
import {
  countObjects,
  getObjectBySopInstanceUid,
  getObjectRawBytes,
  getQuarantineBytes,
  listDevices,
  listQuarantine,
  listStudies,
  listTrusts,
  upsertTrust,
} from "../../src/db/queries.ts";
import { storeParsedObject, type IngestMeta } from "../../src/ingest/store.ts";
import { openTestDatabase, TEST_KEY } from "../helpers/db.ts";
import { bytesFor, ctEvent, ctRdsr, dxImage, unreadable } from "../ingest/fixtures.ts";

// One seeded database for the whole file; these tests only read (except the trust rename,
// which uses its own ODS code).
let opened: OpenedDatabase;
let db: SievertDb;
const meta = (trustOds: string, over: Partial<IngestMeta> = {}): IngestMeta => ({ source: "import", trustOds, name: "seed.dcm", key: TEST_KEY, ...over });
const e1 = ctEvent("1.2.3.9.1", 50, 800);
const e2 = ctEvent("1.2.3.9.2", 55, 600);
const e3 = ctEvent("1.2.3.9.3", 20, 300);
let quarantinedId: number;

beforeAll(async () => {
  opened = await openTestDatabase();
  db = opened.db;
  await upsertTrust(db, "RJ1", "Guy's and St Thomas'");
  // Study A: RDSR + continued RDSR (repeats e1, e2) from device 1.2.3.555
  await storeParsedObject(db, ctRdsr({ sop: "1.2.3.100", study: "1.2.3.1", events: [e1, e2] }), bytesFor("A1"), meta("RJ1"));
  await storeParsedObject(db, ctRdsr({ sop: "1.2.3.101", study: "1.2.3.1", events: [e1, e2, e3] }), bytesFor("A2"), meta("RJ1"));
  // Study B: a DX image at another trust
  await storeParsedObject(db, dxImage("1.2.3.200", "1.2.3.2"), bytesFor("B"), meta("RXH", { source: "stow" }));
  // Study C: older CT at RJ1 from a second scanner
  await storeParsedObject(
    db,
    ctRdsr({ sop: "1.2.3.300", study: "1.2.3.3", studyDate: "2026-01-10", observerUid: "1.2.3.666", serial: "SN-2", events: [ctEvent("1.2.3.9.9", 5, 100)] }),
    bytesFor("C"),
    meta("RJ1"),
  );
  await storeParsedObject(db, unreadable("not-dicom", "notes.txt: no DICM preamble"), new Uint8Array([1, 2, 3]), meta("RJ1", { name: "notes.txt" }));
  const q = await storeParsedObject(db, unreadable("truncated", "cut.dcm: truncated"), new Uint8Array(100).fill(7), meta("RXH", { name: "cut.dcm" }));
  quarantinedId = q.quarantineId!;
});
afterAll(async () => {
  await opened.close();
});

describe("listStudies", () => {
  it("lists every study newest first with object/event counts and de-duplicated DLP/DAP totals", async () => {
    const page = await listStudies(db, { limit: 50, offset: 0 });
    expect(page.total).toBe(3);
    expect(
      page.rows.map((r) => [r.studyInstanceUid, r.trustOds, r.modality, r.studyDate, r.objectCount, r.eventCount, r.totalDlp_mGycm, r.totalDap_Gym2]),
    ).toEqual([
      ["1.2.3.1", "RJ1", "CT", "2026-03-04", 2, 3, 1700, null],
      ["1.2.3.2", "RXH", "DX", "2026-02-01", 1, 1, null, 0.0012],
      ["1.2.3.3", "RJ1", "CT", "2026-01-10", 1, 1, 100, null],
    ]);
    expect(page.rows[0]?.patientPseudonym).toMatch(/^[0-9a-f]{64}$/);
  });

  it("filters by trust, modality, date range (inclusive) and device", async () => {
    const uids = async (f: Parameters<typeof listStudies>[1]) => {
      const p = await listStudies(db, f);
      return { total: p.total, uids: p.rows.map((r) => r.studyInstanceUid) };
    };
    expect(await uids({ trust: "RJ1", limit: 10, offset: 0 })).toEqual({ total: 2, uids: ["1.2.3.1", "1.2.3.3"] });
    expect(await uids({ modality: "DX", limit: 10, offset: 0 })).toEqual({ total: 1, uids: ["1.2.3.2"] });
    expect(await uids({ from: "2026-02-01", to: "2026-03-04", limit: 10, offset: 0 })).toEqual({ total: 2, uids: ["1.2.3.1", "1.2.3.2"] });
    expect(await uids({ to: "2026-01-31", limit: 10, offset: 0 })).toEqual({ total: 1, uids: ["1.2.3.3"] });
    const second = (await listDevices(db)).find((d) => d.observerUid === "1.2.3.666");
    expect(await uids({ device: second!.id, limit: 10, offset: 0 })).toEqual({ total: 1, uids: ["1.2.3.3"] });
    expect(await uids({ trust: "NOPE", limit: 10, offset: 0 })).toEqual({ total: 0, uids: [] });
  });

  it("pages with limit/offset while reporting the total", async () => {
    const page = await listStudies(db, { limit: 1, offset: 1 });
    expect(page.total).toBe(3);
    expect(page.rows.map((r) => r.studyInstanceUid)).toEqual(["1.2.3.2"]);
  });
});

describe("getObjectBySopInstanceUid", () => {
  it("returns the stored report with trust, source, received time and sha256", async () => {
    const obj = await getObjectBySopInstanceUid(db, "1.2.3.101");
    expect(obj).toMatchObject({
      sopInstanceUid: "1.2.3.101",
      kind: "ct-rdsr",
      modality: "CT",
      studyInstanceUid: "1.2.3.1",
      trustOds: "RJ1",
      trustName: "Guy's and St Thomas'",
      source: "import",
      hasRawBytes: true,
    });
    expect(obj?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(new Date(obj!.receivedAt).toISOString()).toBe(obj?.receivedAt);
    expect(obj?.report.events).toHaveLength(3);
    expect(obj?.report.warnings).toHaveLength(2); // e1 and e2 were already stored with 1.2.3.100
  });

  it("returns null for an unknown SOP Instance UID", async () => {
    expect(await getObjectBySopInstanceUid(db, "9.9.9")).toBeNull();
  });

  it("returns the SR bytes as received, and an image's header (its stand-in bytes hold no Pixel Data, so all of them)", async () => {
    const bytes = await getObjectRawBytes(db, "1.2.3.100");
    expect(Buffer.from(bytes!).equals(Buffer.from(bytesFor("A1")))).toBe(true);
    expect(Buffer.from((await getObjectRawBytes(db, "1.2.3.200"))!).equals(Buffer.from(bytesFor("B")))).toBe(true);
    expect((await getObjectBySopInstanceUid(db, "1.2.3.200"))?.hasRawBytes).toBe(true);
    expect(await getObjectRawBytes(db, "9.9.9")).toBeNull();
  });
});

describe("quarantine queries", () => {
  it("lists quarantined objects newest first, with size but without bytes", async () => {
    const page = await listQuarantine(db, { limit: 10, offset: 0 });
    expect(page.total).toBe(2);
    expect(page.rows.map((r) => [r.origin, r.errorCode, r.sizeBytes, r.trustOds])).toEqual([
      ["cut.dcm", "truncated", 100, "RXH"],
      ["notes.txt", "not-dicom", 3, "RJ1"],
    ]);
    expect(page.rows[0]).not.toHaveProperty("rawBytes");
    expect((await listQuarantine(db, { limit: 1, offset: 1 })).rows.map((r) => r.origin)).toEqual(["notes.txt"]);
  });

  it("returns the quarantined bytes by id, null for an unknown id", async () => {
    const bytes = await getQuarantineBytes(db, quarantinedId);
    expect(Array.from(bytes!)).toEqual(new Array(100).fill(7));
    expect(await getQuarantineBytes(db, 999_999)).toBeNull();
  });
});

describe("trusts, devices, counts", () => {
  it("lists trusts by ODS code; auto-created trusts are named after their code until renamed", async () => {
    expect(await listTrusts(db)).toEqual([
      { ods: "RJ1", name: "Guy's and St Thomas'" },
      { ods: "RXH", name: "RXH" },
    ]);
    expect(await upsertTrust(db, "RXH", "University Hospitals Sussex")).toEqual({ ods: "RXH", name: "University Hospitals Sussex" });
    expect((await listTrusts(db)).find((t) => t.ods === "RXH")?.name).toBe("University Hospitals Sussex");
  });

  it("lists devices with the number of objects each sent, optionally for one trust", async () => {
    const all = await listDevices(db);
    expect(all.map((d) => [d.trustOds, d.manufacturer, d.serialNumber, d.objectCount])).toEqual([
      ["RJ1", "SIEMENS", "SN-1001", 2],
      ["RJ1", "SIEMENS", "SN-2", 1],
      ["RXH", "Carestream", null, 1],
    ]);
    expect((await listDevices(db, { trust: "RXH" })).map((d) => d.model)).toEqual(["DRX-1"]);
    expect(Date.parse(all[0]!.firstSeen)).toBeLessThanOrEqual(Date.parse(all[0]!.lastSeen));
  });

  it("counts stored objects, optionally by trust and modality (quarantine not counted)", async () => {
    expect(await countObjects(db)).toBe(4);
    expect(await countObjects(db, { trust: "RJ1" })).toBe(3);
    expect(await countObjects(db, { modality: "DX" })).toBe(1);
    expect(await countObjects(db, { trust: "RXH", modality: "CT" })).toBe(0);
  });
});
