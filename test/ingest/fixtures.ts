/** Hand-built ParsedObjects for storage tests (no parser needed). */
import {
  emptyEvent,
  emptyIdentity,
  emptyReport,
  failedReport,
  type IrradiationEvent,
  type ParsedObject,
  type ParseErrorCode,
  type PatientIdentity,
} from "../../src/dicom/dose-report.ts";

export const NHS_NUMBER = "9434765919";
export const PATIENT_ID = "MRN-SECRET-4711";
export const PATIENT_NAME = "PSEUDO^PATRICIA";

export function identity(over: Partial<PatientIdentity> = {}): PatientIdentity {
  return {
    ...emptyIdentity(),
    patientId: PATIENT_ID,
    issuerOfPatientId: "RJ1",
    nhsNumberCandidate: NHS_NUMBER,
    patientName: PATIENT_NAME,
    birthDate: "1961-02-03",
    ...over,
  };
}

export function ctEvent(uid: string | null, ctdiVol: number, dlp: number, over: Partial<IrradiationEvent> = {}): IrradiationEvent {
  return {
    ...emptyEvent(),
    irradiationEventUid: uid,
    dateTime: "2026-03-04T10:15:00",
    protocol: "CT HEAD",
    targetRegion: "Head",
    acquisitionType: "Spiral Acquisition",
    ctdiVol_mGy: ctdiVol,
    dlp_mGycm: dlp,
    phantom: "head16",
    kvp: 120,
    exposureTime_s: 1.5,
    ...over,
  };
}

export interface CtOptions {
  sop?: string;
  study?: string | null;
  events?: IrradiationEvent[];
  observerUid?: string | null;
  serial?: string | null;
  station?: string | null;
  studyDate?: string | null;
  identity?: Partial<PatientIdentity>;
}

/** A CT RDSR as the parser would report it. */
export function ctRdsr(o: CtOptions = {}): ParsedObject {
  const events = o.events ?? [ctEvent("1.2.3.9.1", 50, 800), ctEvent("1.2.3.9.2", 55, 600)];
  const report = emptyReport();
  Object.assign(report, {
    sopInstanceUid: o.sop ?? "1.2.3.100",
    sopClassUid: "1.2.840.10008.5.1.4.1.1.88.67",
    kind: "ct-rdsr",
    modality: "CT",
    studyInstanceUid: o.study === undefined ? "1.2.3.1" : o.study,
    accessionNumber: "ACC001",
    studyDescription: "CT Head",
    studyDate: o.studyDate === undefined ? "2026-03-04" : o.studyDate,
    studyDateTime: "2026-03-04T10:00:00",
  });
  report.patient = { sex: "F", ageYears: 65, weightKg: 70.5, heightM: 1.62 };
  report.device = {
    manufacturer: "SIEMENS",
    model: "SOMATOM Force",
    stationName: o.station === undefined ? "CT1" : o.station,
    serialNumber: o.serial === undefined ? "SN-1001" : o.serial,
    institutionName: "General Hospital",
    observerUid: o.observerUid === undefined ? "1.2.3.555" : o.observerUid,
  };
  report.totals.ctDlpTotal_mGycm = events.reduce((s, e) => s + (e.dlp_mGycm ?? 0), 0);
  report.totals.ctEventCount = events.length;
  report.events = events;
  return { report, identity: identity(o.identity) };
}

/** A DX image header object (no event UID, DAP only). */
export function dxImage(sop = "1.2.3.200", study = "1.2.3.2"): ParsedObject {
  const report = emptyReport();
  Object.assign(report, {
    sopInstanceUid: sop,
    sopClassUid: "1.2.840.10008.5.1.4.1.1.1.1",
    kind: "projection-image",
    modality: "DX",
    studyInstanceUid: study,
    studyDate: "2026-02-01",
  });
  report.device = { manufacturer: "Carestream", model: "DRX-1", stationName: "DX2", serialNumber: null, institutionName: null, observerUid: null };
  report.events = [{ ...emptyEvent(), protocol: "CHEST PA", dap_Gym2: 0.0012, kvp: 110, exposureTime_s: 0.008 }];
  return { report, identity: identity({ nhsNumberCandidate: null, patientId: "DX-77" }) };
}

export function notDose(sop = "1.2.3.300"): ParsedObject {
  const report = emptyReport();
  Object.assign(report, { sopInstanceUid: sop, kind: "not-dose", modality: "SR", studyInstanceUid: "1.2.3.3" });
  return { report, identity: identity() };
}

export function unreadable(code: ParseErrorCode = "truncated", message = "scan.dcm: ends inside element (0040,A730)"): ParsedObject {
  return { report: failedReport(code, message), identity: emptyIdentity() };
}

/** Bytes standing in for the object: they contain the identifiers, as a real SR would. */
export function bytesFor(label: string): Uint8Array {
  return new TextEncoder().encode(`DICM ${label} ${PATIENT_NAME} ${PATIENT_ID} ${NHS_NUMBER}`);
}
