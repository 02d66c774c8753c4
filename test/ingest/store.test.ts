import { createHash, createHmac } from "node:crypto";
import { count, eq, sql } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { OpenedDatabase, SievertDb } from "../../src/db/client.ts";
import { devices, doseObjects, irradiationEvents, quarantine, studies, trusts } from "../../src/db/schema.ts";
import { upsertTrust } from "../../src/db/queries.ts";
import { storeParsedObject, type IngestMeta } from "../../src/ingest/store.ts";
import { openTestDatabase, resetTestDatabase, TEST_KEY } from "../helpers/db.ts";
import {
  bytesFor,
  ctEvent,
  ctRdsr,
  dxImage,
  NHS_NUMBER,
  notDose,
  PATIENT_ID,
  PATIENT_NAME,
  unreadable,
} from "./fixtures.ts";

// One database per file, emptied before each test.
let opened: OpenedDatabase;
let db: SievertDb;
beforeAll(async () => {
  opened = await openTestDatabase();
  db = opened.db;
});
afterAll(async () => {
  await opened.close();
});
beforeEach(async () => {
  await resetTestDatabase(db);
});

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const meta = (over: Partial<IngestMeta> = {}): IngestMeta => ({ source: "import", trustOds: "RJ1", name: "ct.dcm", key: TEST_KEY, ...over });
const rows = async (table: PgTable) => (await db.select({ n: count() }).from(table))[0]?.n;
const allCounts = async () => ({
  trusts: await rows(trusts),
  devices: await rows(devices),
  studies: await rows(studies),
  objects: await rows(doseObjects),
  events: await rows(irradiationEvents),
  quarantine: await rows(quarantine),
});

describe("storeParsedObject: a new CT RDSR", () => {
  it("stores trust, device, study, object and one row per event with the report's values", async () => {
    const bytes = bytesFor("ct");
    const result = await storeParsedObject(db, ctRdsr(), bytes, meta());
    expect(result.outcome).toBe("stored");
    expect(result.sopInstanceUid).toBe("1.2.3.100");
    expect(await allCounts()).toEqual({ trusts: 1, devices: 1, studies: 1, objects: 1, events: 2, quarantine: 0 });

    const [obj] = await db.select().from(doseObjects);
    expect(obj).toMatchObject({ id: result.objectId, kind: "ct-rdsr", modality: "CT", source: "import", trustOds: "RJ1" });
    expect(obj?.sha256).toBe(sha256(bytes));
    expect(Buffer.from(obj!.rawBytes!).equals(Buffer.from(bytes))).toBe(true);
    expect(obj?.report.totals.ctDlpTotal_mGycm).toBe(1400);
    expect(obj?.report.events).toHaveLength(2);

    const [study] = await db.select().from(studies);
    expect(study).toMatchObject({
      studyInstanceUid: "1.2.3.1",
      trustOds: "RJ1",
      modality: "CT",
      studyDate: "2026-03-04",
      accessionNumber: "ACC001",
      patientSex: "F",
      patientAgeYears: 65,
      patientWeightKg: 70.5,
    });

    const events = await db.select().from(irradiationEvents).orderBy(irradiationEvents.ordinal);
    expect(events.map((e) => [e.ordinal, e.irradiationEventUid, e.ctdivolMgy, e.dlpMgycm, e.phantom, e.kvp])).toEqual([
      [0, "1.2.3.9.1", 50, 800, "head16", 120],
      [1, "1.2.3.9.2", 55, 600, "head16", 120],
    ]);
    expect(events[0]?.protocol).toBe("CT HEAD");
    // the whole event is the report's element at the row's ordinal
    expect(events.map((e) => obj?.report.events[e.ordinal]?.irradiationEventUid)).toEqual(["1.2.3.9.1", "1.2.3.9.2"]);
  });

  it("stores the report as a JSON object (jsonb), not a JSON string", async () => {
    await storeParsedObject(db, ctRdsr(), bytesFor("ct"), meta());
    const [row] = await db.select({ t: sql<string>`jsonb_typeof(${doseObjects.report})` }).from(doseObjects);
    expect(row?.t).toBe("object");
    const [ev] = await db.select({ dlp: sql<number>`(${doseObjects.report} -> 'events' -> 0 ->> 'dlp_mGycm')::float8` }).from(doseObjects);
    expect(ev?.dlp).toBe(800);
  });

  it("stores a keyed pseudonym of the NHS number and no identifier in plaintext outside raw_bytes", async () => {
    await storeParsedObject(db, ctRdsr(), bytesFor("ct"), meta());
    const [study] = await db.select({ p: studies.patientPseudonym }).from(studies);
    expect(study?.p).toBe(createHmac("sha256", TEST_KEY).update(`nhs:${NHS_NUMBER}`).digest("hex"));

    const dumps = await Promise.all(
      ["trusts", "devices", "studies", "irradiation_events"].map((t) =>
        db.execute(sql.raw(`select row_to_json(x)::text as j from ${t} x`)),
      ),
    );
    const objectJson = await db.select({ j: sql<string>`${doseObjects.report}::text || ${doseObjects.sha256}` }).from(doseObjects);
    const text = JSON.stringify(dumps) + JSON.stringify(objectJson);
    expect(text).toContain("1.2.3.100"); // the dump is not empty
    for (const secret of [NHS_NUMBER, PATIENT_ID, PATIENT_NAME, "1961-02-03"]) expect(text).not.toContain(secret);
  });

  it("drops the CLI-only `file` field from the stored report", async () => {
    const parsed = ctRdsr();
    parsed.report.file = "/home/someone/Downloads/ct.dcm";
    await storeParsedObject(db, parsed, bytesFor("ct"), meta());
    const [obj] = await db.select({ r: doseObjects.report }).from(doseObjects);
    expect(obj?.r).not.toHaveProperty("file");
  });

  it("creates an unknown trust named after its ODS code and never renames a named trust", async () => {
    await storeParsedObject(db, ctRdsr(), bytesFor("a"), meta({ trustOds: "RXH" }));
    expect(await db.select({ ods: trusts.ods, name: trusts.name }).from(trusts)).toEqual([{ ods: "RXH", name: "RXH" }]);
    await upsertTrust(db, "RXH", "Brighton and Sussex");
    await storeParsedObject(db, ctRdsr({ sop: "1.2.3.101", study: "1.2.3.7", events: [] }), bytesFor("b"), meta({ trustOds: "RXH" }));
    expect(await db.select({ ods: trusts.ods, name: trusts.name }).from(trusts)).toEqual([{ ods: "RXH", name: "Brighton and Sussex" }]);
  });

  it("stores an object from an unknown sender (no or blank trust code) without creating a trust", async () => {
    const result = await storeParsedObject(db, ctRdsr(), bytesFor("ct"), meta({ trustOds: "  " }));
    expect(result.outcome).toBe("stored");
    expect(await rows(trusts)).toBe(0);
    const [obj] = await db.select({ t: doseObjects.trustOds }).from(doseObjects);
    expect(obj?.t).toBeNull();
  });

  it("stores a study date that is not a real date as null with a warning, keeping the object", async () => {
    const result = await storeParsedObject(db, ctRdsr({ studyDate: "2026-02-30" }), bytesFor("ct"), meta());
    expect(result.outcome).toBe("stored");
    const [study] = await db.select({ d: studies.studyDate }).from(studies);
    expect(study?.d).toBeNull();
    const [obj] = await db.select({ r: doseObjects.report }).from(doseObjects);
    expect(obj?.r.warnings.join("\n")).toMatch(/Study date "2026-02-30" is not a valid/);
  });
});

describe("storeParsedObject: the values the analytics copy reads, as columns", () => {
  it("keeps the report totals and the event values beside the JSON, the same on the one-statement and the transactional path", async () => {
    const values = { mAs: 210, waterEquivalentDiameter_mm: 251.5, sizeSpecificDose_mGy: 14.2, compressionThickness_mm: 55, laterality: "Right breast", viewPosition: "cranio-caudal" };
    const e1 = ctEvent("1.2.3.9.1", 50, 800, values);
    const e2 = ctEvent("1.2.3.9.2", 55, 600, { ...values, mAs: 190, laterality: null, viewPosition: "medio-lateral oblique" });
    const totals = { administeredActivity_MBq: 370, radiopharmaceutical: "Fluorodeoxyglucose", fluoroTimeTotal_s: 252, rpDoseTotal_Gy: 0.085 };
    // The first object takes the one-statement path; the second repeats e1, so it takes the
    // transactional path. A total that is not a finite number is null, as in the stored JSON.
    const first = ctRdsr({ sop: "1.2.3.100", events: [e1] });
    Object.assign(first.report.totals, totals, { fluoroTimeTotal_s: Number.NaN });
    const second = ctRdsr({ sop: "1.2.3.101", events: [e1, e2] });
    Object.assign(second.report.totals, totals, { rpDoseTotal_Gy: Number.POSITIVE_INFINITY });
    expect((await storeParsedObject(db, first, bytesFor("first"), meta())).outcome).toBe("stored");
    expect((await storeParsedObject(db, second, bytesFor("second"), meta())).outcome).toBe("stored");

    const objects = await db
      .select({
        sop: doseObjects.sopInstanceUid,
        activity: doseObjects.activityMbq,
        radiopharmaceutical: doseObjects.radiopharmaceutical,
        fluoroTime: doseObjects.fluoroTimeTotalS,
        rpDose: doseObjects.rpDoseTotalGy,
        fluoroTimeJson: sql<string | null>`${doseObjects.report}->'totals'->>'fluoroTimeTotal_s'`,
        rpDoseJson: sql<string | null>`${doseObjects.report}->'totals'->>'rpDoseTotal_Gy'`,
      })
      .from(doseObjects)
      .orderBy(doseObjects.sopInstanceUid);
    expect(objects).toEqual([
      { sop: "1.2.3.100", activity: 370, radiopharmaceutical: "Fluorodeoxyglucose", fluoroTime: null, rpDose: 0.085, fluoroTimeJson: null, rpDoseJson: "0.085" },
      { sop: "1.2.3.101", activity: 370, radiopharmaceutical: "Fluorodeoxyglucose", fluoroTime: 252, rpDose: null, fluoroTimeJson: "252", rpDoseJson: null },
    ]);

    const events = await db
      .select({
        uid: irradiationEvents.irradiationEventUid,
        mas: irradiationEvents.mas,
        wed: irradiationEvents.waterEquivalentDiameterMm,
        ssde: irradiationEvents.sizeSpecificDoseMgy,
        compression: irradiationEvents.compressionThicknessMm,
        laterality: irradiationEvents.laterality,
        view: irradiationEvents.viewPosition,
      })
      .from(irradiationEvents)
      .orderBy(irradiationEvents.irradiationEventUid);
    expect(events).toEqual([
      { uid: "1.2.3.9.1", mas: 210, wed: 251.5, ssde: 14.2, compression: 55, laterality: "Right breast", view: "cranio-caudal" },
      { uid: "1.2.3.9.2", mas: 190, wed: 251.5, ssde: 14.2, compression: 55, laterality: null, view: "medio-lateral oblique" },
    ]);
  });
});

describe("storeParsedObject: image objects", () => {
  it("keeps an image's bytes whole when no pixel-data tag occurs in them, none when one does and no header end can be found, and the caller's header bytes when given", async () => {
    const plain = bytesFor("pixels");
    // Not DICOM: the walk runs off the end, so only the absence of (7FE0,0010) makes them safe to keep.
    const withPixelTag = Buffer.concat([Buffer.from(bytesFor("pixels3")), Buffer.from([0xe0, 0x7f, 0x10, 0x00, 1, 2, 3, 4])]);
    await storeParsedObject(db, dxImage("1.2.3.200"), plain, meta());
    const header = new Uint8Array([1, 2, 3, 4]);
    await storeParsedObject(db, dxImage("1.2.3.201"), bytesFor("pixels2"), meta({ headerBytes: header }));
    await storeParsedObject(db, dxImage("1.2.3.202"), withPixelTag, meta());
    const objs = await db
      .select({ sop: doseObjects.sopInstanceUid, raw: doseObjects.rawBytes, sha: doseObjects.sha256 })
      .from(doseObjects)
      .orderBy(doseObjects.sopInstanceUid);
    expect(Buffer.from(objs[0]!.raw!).equals(Buffer.from(plain))).toBe(true);
    expect(Array.from(objs[1]?.raw ?? [])).toEqual([1, 2, 3, 4]);
    expect(objs[2]?.raw).toBeNull();
    expect(objs[0]?.sha).toMatch(/^[0-9a-f]{64}$/);
  });

  it("stores image events without an event UID (several NULL UIDs are allowed)", async () => {
    await storeParsedObject(db, dxImage("1.2.3.200"), bytesFor("a"), meta());
    await storeParsedObject(db, dxImage("1.2.3.201"), bytesFor("b"), meta());
    const events = await db.select({ uid: irradiationEvents.irradiationEventUid, dap: irradiationEvents.dapGym2 }).from(irradiationEvents);
    expect(events).toEqual([
      { uid: null, dap: 0.0012 },
      { uid: null, dap: 0.0012 },
    ]);
  });
});

describe("storeParsedObject: objects that are not stored", () => {
  it("stores nothing for a not-dose object", async () => {
    const result = await storeParsedObject(db, notDose(), bytesFor("esr"), meta());
    expect(result.outcome).toBe("not-dose");
    expect(await allCounts()).toEqual({ trusts: 0, devices: 0, studies: 0, objects: 0, events: 0, quarantine: 0 });
  });

  it("quarantines an unreadable object with its bytes, code, message and origin", async () => {
    const bytes = bytesFor("broken");
    const result = await storeParsedObject(db, unreadable(), bytes, meta({ name: "scan.dcm", source: "stow" }));
    expect(result.outcome).toBe("quarantined");
    expect(result.reason).toBe("truncated: scan.dcm: ends inside element (0040,A730)");
    const q = await db.select().from(quarantine);
    expect(q).toHaveLength(1);
    expect(q[0]).toMatchObject({ id: result.quarantineId, errorCode: "truncated", origin: "scan.dcm", source: "stow", trustOds: "RJ1" });
    expect(Buffer.from(q[0]!.rawBytes).equals(Buffer.from(bytes))).toBe(true);
    expect(await rows(doseObjects)).toBe(0);
  });

  it("keeps one quarantine row when the same bad bytes arrive again", async () => {
    const first = await storeParsedObject(db, unreadable(), bytesFor("broken"), meta());
    const second = await storeParsedObject(db, unreadable(), bytesFor("broken"), meta());
    expect(second.outcome).toBe("quarantined");
    expect(second.quarantineId).toBe(first.quarantineId);
    expect(await rows(quarantine)).toBe(1);
  });

  it("quarantines a dose object without SOP Instance UID as missing-attribute", async () => {
    const parsed = ctRdsr();
    parsed.report.sopInstanceUid = null;
    const result = await storeParsedObject(db, parsed, bytesFor("nouid"), meta({ name: "nouid.dcm" }));
    expect(result.outcome).toBe("quarantined");
    const [q] = await db.select().from(quarantine);
    expect(q?.errorCode).toBe("missing-attribute");
    expect(q?.errorMessage).toContain("nouid.dcm");
    expect(await rows(doseObjects)).toBe(0);
    expect(await rows(studies)).toBe(0);
  });
});

describe("storeParsedObject: duplicates", () => {
  it("reports the same object sent twice as a duplicate and stores it once", async () => {
    const first = await storeParsedObject(db, ctRdsr(), bytesFor("ct"), meta());
    const before = await allCounts();
    const again = await storeParsedObject(db, ctRdsr(), bytesFor("ct"), meta());
    expect(again).toMatchObject({ outcome: "duplicate", objectId: first.objectId, sopInstanceUid: "1.2.3.100" });
    expect(again.note).toBeUndefined();
    expect(await allCounts()).toEqual(before);
  });

  it("keeps the stored copy and adds a note when the same SOP Instance UID arrives with different bytes", async () => {
    await storeParsedObject(db, ctRdsr(), bytesFor("ct v1"), meta());
    const changed = ctRdsr({ events: [ctEvent("1.2.3.9.1", 99, 9999)] });
    const again = await storeParsedObject(db, changed, bytesFor("ct v2"), meta());
    expect(again.outcome).toBe("duplicate");
    expect(again.note).toMatch(/re-sent with different bytes.*not overwritten/);
    const [obj] = await db.select({ r: doseObjects.report, sha: doseObjects.sha256 }).from(doseObjects);
    expect(obj?.r.totals.ctDlpTotal_mGycm).toBe(1400);
    expect(obj?.sha).toBe(sha256(bytesFor("ct v1")));
    expect(await rows(irradiationEvents)).toBe(2);
  });

  it("stores a continued RDSR that repeats earlier events, skipping the repeated event rows with a warning", async () => {
    const e1 = ctEvent("1.2.3.9.1", 50, 800);
    const e2 = ctEvent("1.2.3.9.2", 55, 600);
    const e3 = ctEvent("1.2.3.9.3", 20, 300);
    await storeParsedObject(db, ctRdsr({ sop: "1.2.3.100", events: [e1, e2] }), bytesFor("part1"), meta());
    const cont = await storeParsedObject(db, ctRdsr({ sop: "1.2.3.101", events: [e1, e2, e3] }), bytesFor("part2"), meta());
    expect(cont.outcome).toBe("stored");
    expect(await rows(doseObjects)).toBe(2);
    expect(await rows(studies)).toBe(1);

    const events = await db
      .select({ uid: irradiationEvents.irradiationEventUid, sop: doseObjects.sopInstanceUid })
      .from(irradiationEvents)
      .innerJoin(doseObjects, eq(doseObjects.id, irradiationEvents.doseObjectId))
      .orderBy(irradiationEvents.irradiationEventUid);
    expect(events).toEqual([
      { uid: "1.2.3.9.1", sop: "1.2.3.100" },
      { uid: "1.2.3.9.2", sop: "1.2.3.100" },
      { uid: "1.2.3.9.3", sop: "1.2.3.101" },
    ]);

    const [stored] = await db.select({ r: doseObjects.report }).from(doseObjects).where(eq(doseObjects.sopInstanceUid, "1.2.3.101"));
    const warnings = stored?.r.warnings ?? [];
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain("Irradiation event 1.2.3.9.1 is already stored with object 1.2.3.100");
    expect(warnings[0]).not.toContain("different study");
    expect(cont.report.warnings).toEqual(warnings);
    // the report keeps all three events: it is the object's own record
    expect(stored?.r.events).toHaveLength(3);
  });

  it("says so when a repeated event UID belongs to a different study", async () => {
    await storeParsedObject(db, ctRdsr({ sop: "1.2.3.100", study: "1.2.3.1" }), bytesFor("a"), meta());
    const other = await storeParsedObject(db, ctRdsr({ sop: "1.2.3.150", study: "1.2.3.50" }), bytesFor("b"), meta());
    expect(other.outcome).toBe("stored");
    expect(other.report.warnings[0]).toContain("(a different study)");
  });

  it("stores an event UID repeated inside one object once, with a warning", async () => {
    const e = ctEvent("1.2.3.9.7", 10, 100);
    const result = await storeParsedObject(db, ctRdsr({ events: [e, e] }), bytesFor("twice"), meta());
    expect(result.outcome).toBe("stored");
    expect(await rows(irradiationEvents)).toBe(1);
    expect(result.report.warnings).toEqual(["Irradiation event 1.2.3.9.7 appears more than once in this object; stored once"]);
  });
});

describe("storeParsedObject: devices", () => {
  it("identifies a device by Device Observer UID across objects and updates last seen", async () => {
    await storeParsedObject(db, ctRdsr({ sop: "1.2.3.100", station: "CT1" }), bytesFor("a"), meta());
    await storeParsedObject(db, ctRdsr({ sop: "1.2.3.101", study: "1.2.3.2", station: "CT-ONE", events: [] }), bytesFor("b"), meta());
    const all = await db.select().from(devices);
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ identityKey: "uid:1.2.3.555", stationName: "CT-ONE", serialNumber: "SN-1001" });
    expect(all[0]!.lastSeen.getTime()).toBeGreaterThanOrEqual(all[0]!.firstSeen.getTime());
    const objs = await db.select({ d: doseObjects.deviceId }).from(doseObjects);
    expect(objs.map((o) => o.d)).toEqual([all[0]!.id, all[0]!.id]);
  });

  it("falls back to manufacturer+model+serial, and keeps same-model devices without serial apart per trust", async () => {
    await storeParsedObject(db, ctRdsr({ sop: "1.2.3.100", observerUid: null }), bytesFor("a"), meta());
    await storeParsedObject(db, ctRdsr({ sop: "1.2.3.101", study: "1.2.3.2", observerUid: null, events: [] }), bytesFor("b"), meta());
    await storeParsedObject(db, dxImage("1.2.3.200", "1.2.3.20"), bytesFor("c"), meta({ trustOds: "RJ1" }));
    await storeParsedObject(db, dxImage("1.2.3.201", "1.2.3.21"), bytesFor("d"), meta({ trustOds: "RXH" }));
    const keys = (await db.select({ k: devices.identityKey }).from(devices).orderBy(devices.identityKey)).map((r) => r.k);
    expect(keys).toEqual([
      "msn:Carestream|DRX-1||trust:RJ1|station:DX2",
      "msn:Carestream|DRX-1||trust:RXH|station:DX2",
      "msn:SIEMENS|SOMATOM Force|SN-1001",
    ]);
  });
});

describe("storeParsedObject: concurrency and interrupted imports", () => {
  it("stores an object once when the same object is ingested concurrently; the others are duplicates", async () => {
    const results = await Promise.all(
      Array.from({ length: 6 }, () => storeParsedObject(db, ctRdsr(), bytesFor("ct"), meta())),
    );
    const outcomes = results.map((r) => r.outcome).sort();
    expect(outcomes).toEqual(["duplicate", "duplicate", "duplicate", "duplicate", "duplicate", "stored"]);
    expect(new Set(results.map((r) => r.objectId)).size).toBe(1);
    expect(await allCounts()).toMatchObject({ studies: 1, devices: 1, objects: 1, events: 2 });
  });

  it("stores concurrent continued RDSRs of one study with each event once", async () => {
    const e = [1, 2, 3, 4].map((i) => ctEvent(`1.2.3.9.${i}`, 10 * i, 100 * i));
    const parts = [
      ctRdsr({ sop: "1.2.3.100", events: [e[0]!, e[1]!] }),
      ctRdsr({ sop: "1.2.3.101", events: [e[1]!, e[0]!, e[2]!] }),
      ctRdsr({ sop: "1.2.3.102", events: [e[0]!, e[1]!, e[2]!, e[3]!] }),
    ];
    const results = await Promise.all(parts.map((p, i) => storeParsedObject(db, p, bytesFor(`part${i}`), meta())));
    expect(results.map((r) => r.outcome)).toEqual(["stored", "stored", "stored"]);
    expect(await rows(irradiationEvents)).toBe(4);
    const [sum] = await db.select({ dlp: sql<number>`sum(${irradiationEvents.dlpMgycm})`.mapWith(Number) }).from(irradiationEvents);
    expect(sum?.dlp).toBe(1000);
  });

  it("loses nothing when one object fails mid-transaction: the rest are stored, a re-run stores it", async () => {
    const batch = [
      ctRdsr({ sop: "1.2.3.100", study: "1.2.3.1", events: [ctEvent("1.2.3.9.1", 1, 10)] }),
      ctRdsr({ sop: "1.2.3.101", study: "1.2.3.2", observerUid: "1.2.3.777", events: [ctEvent("1.2.3.9.2", 2, 20)] }),
      ctRdsr({ sop: "1.2.3.102", study: "1.2.3.3", events: [ctEvent("1.2.3.9.3", 3, 30)] }),
    ];
    const runImport = async (failOn: string | null) => {
      const outcomes: string[] = [];
      for (const [i, parsed] of batch.entries()) {
        try {
          const r = await storeParsedObject(db, parsed, bytesFor(`obj${i}`), {
            ...meta(),
            beforeCommit: (uid) => {
              if (uid === failOn) throw new Error("injected failure: process killed");
            },
          });
          outcomes.push(r.outcome);
        } catch {
          outcomes.push("failed");
        }
      }
      return outcomes;
    };

    expect(await runImport("1.2.3.101")).toEqual(["stored", "failed", "stored"]);
    const sops = async () => (await db.select({ s: doseObjects.sopInstanceUid }).from(doseObjects).orderBy(doseObjects.sopInstanceUid)).map((r) => r.s);
    expect(await sops()).toEqual(["1.2.3.100", "1.2.3.102"]);
    // nothing of the failed object survived: not its study, device or event
    expect(await db.select().from(studies).where(eq(studies.studyInstanceUid, "1.2.3.2"))).toEqual([]);
    expect(await db.select().from(devices).where(eq(devices.observerUid, "1.2.3.777"))).toEqual([]);
    expect(await rows(irradiationEvents)).toBe(2);

    expect(await runImport(null)).toEqual(["duplicate", "stored", "duplicate"]);
    expect(await sops()).toEqual(["1.2.3.100", "1.2.3.101", "1.2.3.102"]);
    expect(await allCounts()).toMatchObject({ studies: 3, devices: 2, objects: 3, events: 3 });

    expect(await runImport(null)).toEqual(["duplicate", "duplicate", "duplicate"]);
    expect(await rows(doseObjects)).toBe(3);
  });
});
