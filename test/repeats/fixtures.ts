/**
 * Compact synthetic CT RDSRs for repeat tests: one spiral event, the patient identifiers,
 * trust, description, date and time chosen by the test (src/synth builders).
 */
import { createHash } from "node:crypto";
import { buildCtRdsr, toPart10, V } from "../../src/synth/index.ts";

let serial = 0;

export interface StudySpec {
  /** NHS number (written to Other Patient IDs, issuer NHS) or null. */
  nhs: string | null;
  /** Trust-local patient ID. */
  patientId: string;
  issuer?: string | null;
  trust: string;
  description: string;
  /** YYYY-MM-DD */
  date: string;
  /** HH:MM[:SS] */
  time: string;
  protocol?: string;
  /** Distinguishes otherwise identical studies (default: a counter). */
  tag?: string;
}

function uid(...parts: Array<string | number>): string {
  const h = createHash("sha256").update(parts.join("|")).digest();
  return `2.25.${BigInt(`0x${h.subarray(0, 15).toString("hex")}`).toString()}`;
}

export function ctStudy(s: StudySpec): { bytes: Uint8Array; studyInstanceUid: string } {
  const tag = s.tag ?? String(serial++);
  const date = s.date.replaceAll("-", "");
  const time = (s.time.length === 5 ? `${s.time}:00` : s.time).replaceAll(":", "");
  const studyInstanceUid = uid("study", tag);
  const dataset = buildCtRdsr({
    patient: { patientId: s.patientId, issuerOfPatientId: s.issuer ?? null, nhsNumber: s.nhs, name: "TEST^PATIENT", birthDate: "19600101", sex: "F" },
    device: {
      manufacturer: "SIEMENS",
      model: "SOMATOM Test",
      stationName: `CT_${s.trust}`,
      serialNumber: `SN${s.trust}`,
      softwareVersions: "1",
      institutionName: `Hospital ${s.trust}`,
      observerUid: uid("device", s.trust),
    },
    study: {
      studyInstanceUid,
      seriesInstanceUid: uid("series", tag),
      sopInstanceUid: uid("sop", tag),
      date,
      time,
      accessionNumber: `A${tag}`,
      description: s.description,
    },
    events: [
      {
        uid: uid("event", tag),
        protocol: s.protocol ?? s.description,
        targetRegion: null,
        acquisitionType: V.spiralAcquisition,
        exposureTime_s: 5,
        scanLength_mm: 200,
        singleCollimation_mm: 0.6,
        totalCollimation_mm: 38.4,
        pitch: 0.8,
        sources: [{ id: "A", kvp: 120, maxTubeCurrent_mA: 300, tubeCurrent_mA: 200, exposureTimePerRotation_s: 0.5 }],
        ctdiVol_mGy: 10,
        phantom: "body32",
        dlp_mGycm: 300,
      },
    ],
  });
  return { bytes: toPart10(dataset), studyInstanceUid };
}
