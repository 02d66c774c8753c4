/**
 * Synthetic image objects (CT, DX, MG) for tests: a Part 10 file (explicit VR little endian,
 * test/dicom/part10.ts) with the dose attributes the image-header extractor reads, the patient
 * identifiers, and Pixel Data of a chosen size as the last element.
 */
import { part10, type Item } from "../dicom/part10.ts";

export type ImageKind = "ct" | "dx" | "mg";

export interface ImageSpec {
  kind: ImageKind;
  sopInstanceUid: string;
  studyInstanceUid: string;
  patientId: string;
  /** Written to Other Patient IDs Sequence with issuer "NHS". */
  nhsNumber?: string | null;
  description: string;
  /** YYYYMMDD, HHMMSS */
  date: string;
  time: string;
  /** Bytes of pixel data (even). */
  pixelBytes: number;
}

const SOP_CLASS: Record<ImageKind, string> = {
  ct: "1.2.840.10008.5.1.4.1.1.2", // CT Image Storage
  dx: "1.2.840.10008.5.1.4.1.1.1.1", // Digital X-Ray Image Storage - For Presentation
  mg: "1.2.840.10008.5.1.4.1.1.1.2", // Digital Mammography X-Ray Image Storage - For Presentation
};

/** The dose attributes of each kind (values are test inputs, not clinical figures). */
const DOSE: Record<ImageKind, Item> = {
  ct: [
    { tag: "00180060", vr: "DS", value: "120" }, // KVP
    { tag: "00189345", vr: "FD", value: [12.5] }, // CTDIvol, mGy
  ],
  dx: [
    { tag: "00180060", vr: "DS", value: "70" }, // KVP
    { tag: "0018115E", vr: "DS", value: "0.85" }, // Image and Fluoroscopy Area Dose Product, dGy·cm²
  ],
  mg: [
    { tag: "00180060", vr: "DS", value: "29" }, // KVP
    { tag: "001811A0", vr: "DS", value: "52" }, // Body Part Thickness, mm
    { tag: "00400316", vr: "DS", value: "0.0123" }, // Organ Dose (AGD), dGy
    { tag: "00408302", vr: "DS", value: "5.6" }, // Entrance Dose in mGy
  ],
};

/** A Part 10 image whose Pixel Data (7FE0,0010) of `pixelBytes` bytes is its last element. */
export function imageObject(s: ImageSpec): Uint8Array {
  const modality = s.kind.toUpperCase();
  const items: Item = [
    { tag: "00080005", vr: "CS", value: "ISO_IR 100" },
    { tag: "00080016", vr: "UI", value: SOP_CLASS[s.kind] },
    { tag: "00080018", vr: "UI", value: s.sopInstanceUid },
    { tag: "00080020", vr: "DA", value: s.date },
    { tag: "00080030", vr: "TM", value: s.time },
    { tag: "00080050", vr: "SH", value: `ACC${s.sopInstanceUid.slice(-4)}` },
    { tag: "00080060", vr: "CS", value: modality },
    { tag: "00080070", vr: "LO", value: "TESTVENDOR" },
    { tag: "00081010", vr: "SH", value: `${modality}_ROOM1` },
    { tag: "00081030", vr: "LO", value: s.description },
    { tag: "00081090", vr: "LO", value: `${modality} Model` },
    { tag: "00100010", vr: "PN", value: "TEST^IMAGE" },
    { tag: "00100020", vr: "LO", value: s.patientId },
    { tag: "00100030", vr: "DA", value: "19600101" },
    { tag: "00100040", vr: "CS", value: "F" },
    ...(s.nhsNumber
      ? [
          {
            tag: "00101002", // Other Patient IDs Sequence
            vr: "SQ",
            value: [
              [
                { tag: "00100020", vr: "LO", value: s.nhsNumber },
                { tag: "00100021", vr: "LO", value: "NHS" },
              ],
            ],
          },
        ]
      : []),
    { tag: "00181000", vr: "LO", value: "SN-1" },
    { tag: "0020000D", vr: "UI", value: s.studyInstanceUid },
    { tag: "0020000E", vr: "UI", value: `${s.studyInstanceUid}.1` },
    { tag: "00280010", vr: "US", value: [16] },
    { tag: "00280011", vr: "US", value: [s.pixelBytes / 32] },
    { tag: "00280100", vr: "US", value: [16] },
    ...DOSE[s.kind],
    { tag: "7FE00010", vr: "OW", value: new Uint8Array(s.pixelBytes).fill(0x5a) },
  ];
  return part10(items);
}

/** Pixel Data's tag as it appears in an explicit VR little endian file. */
export const PIXEL_DATA_TAG = Uint8Array.from([0xe0, 0x7f, 0x10, 0x00]);
