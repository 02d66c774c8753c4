/** Hand-built ParsedObjects for the data-quality tests, and a helper that stores one with a chosen receipt time. */
import { sql } from "drizzle-orm";
import { emptyEvent, emptyIdentity, emptyReport, type DoseReport, type IrradiationEvent, type ParsedObject } from "../../src/dicom/dose-report.ts";
import type { SievertDb } from "../../src/db/client.ts";
import { storeParsedObject } from "../../src/ingest/store.ts";
import { TEST_KEY } from "../helpers/db.ts";

export function ctEvent(uid: string | null, over: Partial<IrradiationEvent> = {}): IrradiationEvent {
  return {
    ...emptyEvent(),
    irradiationEventUid: uid,
    protocol: "CT HEAD",
    targetRegion: "Head",
    acquisitionType: "Spiral Acquisition",
    ctdiVol_mGy: 50,
    dlp_mGycm: 800,
    phantom: "head16",
    scanLength_mm: 150,
    ...over,
  };
}

/** A CT localizer (Constant Angle Acquisition) with no dose values, as many scanners report it. */
export function localizer(uid: string): IrradiationEvent {
  return { ...emptyEvent(), irradiationEventUid: uid, protocol: "TOPOGRAM", targetRegion: "Head", acquisitionType: "Constant Angle Acquisition" };
}

export interface ObjectOptions {
  sop: string;
  study?: string;
  studyDate?: string | null;
  studyDateTime?: string | null;
  events?: IrradiationEvent[];
  device?: Partial<DoseReport["device"]>;
  ageYears?: number | null;
  warnings?: string[];
}

export function ctRdsr(o: ObjectOptions): ParsedObject {
  const report = emptyReport();
  const events = o.events ?? [ctEvent(`${o.sop}.1`)];
  Object.assign(report, {
    sopInstanceUid: o.sop,
    sopClassUid: "1.2.840.10008.5.1.4.1.1.88.67",
    kind: "ct-rdsr",
    modality: "CT",
    studyInstanceUid: o.study ?? `${o.sop}.9`,
    studyDate: o.studyDate === undefined ? "2026-03-04" : o.studyDate,
    studyDateTime: o.studyDateTime === undefined ? "2026-03-04T10:00:00" : o.studyDateTime,
    warnings: o.warnings ?? [],
  });
  report.patient = { sex: "F", ageYears: o.ageYears === undefined ? 65 : o.ageYears, weightKg: 70, heightM: null };
  report.device = { manufacturer: "GE MEDICAL SYSTEMS", model: "Revolution", stationName: "CT1", serialNumber: "SN-1", institutionName: null, observerUid: "1.2.826.0.1.99.1", ...o.device };
  report.totals.ctDlpTotal_mGycm = events.reduce((s, e) => s + (e.dlp_mGycm ?? 0), 0);
  report.totals.ctEventCount = events.length;
  report.events = events;
  return { report, identity: emptyIdentity() };
}

export function dxImage(o: ObjectOptions & { dap_Gym2?: number | null }): ParsedObject {
  const report = emptyReport();
  Object.assign(report, {
    sopInstanceUid: o.sop,
    sopClassUid: "1.2.840.10008.5.1.4.1.1.1.1",
    kind: "projection-image",
    modality: "DX",
    studyInstanceUid: o.study ?? `${o.sop}.9`,
    studyDate: o.studyDate === undefined ? "2026-02-01" : o.studyDate,
    studyDateTime: o.studyDateTime === undefined ? null : o.studyDateTime,
  });
  report.patient = { sex: "M", ageYears: 40, weightKg: null, heightM: null };
  report.device = { manufacturer: "Carestream", model: "DRX-1", stationName: "DX2", serialNumber: "DX-SN", institutionName: null, observerUid: null, ...o.device };
  report.events = [{ ...emptyEvent(), protocol: "CHEST PA", dap_Gym2: o.dap_Gym2 === undefined ? 0.0012 : o.dap_Gym2 }];
  return { report, identity: emptyIdentity() };
}

/** Stores a parsed object as `source` from `trust`, then sets its receipt time when given (a past or future receipt). */
export async function store(db: SievertDb, parsed: ParsedObject, opts: { trust?: string; source?: string; receivedAt?: string } = {}): Promise<number> {
  const bytes = new TextEncoder().encode(`DICM ${parsed.report.sopInstanceUid}`);
  const r = await storeParsedObject(db, parsed, bytes, { source: opts.source ?? "dimse", trustOds: opts.trust ?? "RJ1", name: `${parsed.report.sopInstanceUid}.dcm`, key: TEST_KEY });
  if (r.outcome !== "stored" || r.objectId === undefined) throw new Error(`${parsed.report.sopInstanceUid}: ${r.outcome} ${r.reason ?? ""}`);
  if (opts.receivedAt) await db.execute(sql`update dose_objects set received_at = ${opts.receivedAt}::timestamptz where id = ${r.objectId}`);
  return r.objectId;
}
