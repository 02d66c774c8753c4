/**
 * Synthetic edge cases for parseDicom, built byte for byte in the test (part10.ts):
 * character sets, unit conversion, broken input, classification, odd SR trees.
 */
import { describe, expect, it } from "vitest";
import { parseDicom, setImageDoseExtractor } from "../../src/dicom/index.js";
import {
  byReference,
  code,
  codeValue,
  container,
  dateTimeValue,
  dcm,
  encodeDataset,
  latin1,
  num,
  part10,
  srDocument,
  textValue,
  uidValue,
  utf8,
  type Element,
  type Item,
} from "./part10.js";

const XRAY_DOSE_REPORT = dcm("113701", "X-Ray Radiation Dose Report");
const PROCEDURE_REPORTED = dcm("121058", "Procedure reported");
const CT_PROCEDURE_SRT = code("P5-08000", "SRT", "Computed Tomography X-Ray");
const CT_PROCEDURE_SCT = code("77477000", "SCT", "Computed Tomography X-Ray");
const PROJECTION_PROCEDURE = dcm("113704", "Projection X-Ray");

interface CtEventSpec {
  protocol?: string | Uint8Array;
  ctdiVol?: number;
  dlp?: number;
  phantom?: ReturnType<typeof code>;
  sources?: Array<{ kvp: number; mA?: number; maxMA?: number }>;
  uid?: string;
}

function ctAcquisition(e: CtEventSpec, i: number): Item {
  const sources = e.sources ?? [{ kvp: 120, mA: 200 }];
  return container(dcm("113819", "CT Acquisition"), [
    textValue(dcm("125203", "Acquisition Protocol"), e.protocol ?? `protocol ${i}`),
    codeValue(dcm("123014", "Target Region"), code("T-D4000", "SRT", "Abdomen")),
    codeValue(dcm("113820", "CT Acquisition Type"), dcm("113804", "Sequenced Acquisition")),
    uidValue(dcm("113769", "Irradiation Event UID"), e.uid ?? `1.2.826.0.1.3680043.10.1.100.${i}`),
    container(dcm("113822", "CT Acquisition Parameters"), [
      num(dcm("113824", "Exposure Time"), 1.5, "s"),
      num(dcm("113825", "Scanning Length"), 25, "cm"),
      num(dcm("113827", "Nominal Total Collimation Width"), 40, "mm"),
      num(dcm("113828", "Pitch Factor"), 0.9, "{ratio}"),
      num(dcm("113823", "Number of X-Ray Sources"), sources.length, "{X-Ray sources}"),
      ...sources.map((s, k) =>
        container(dcm("113831", "CT X-Ray Source Parameters"), [
          textValue(dcm("113832", "Identification of the X-Ray Source"), String.fromCharCode(65 + k)),
          num(dcm("113733", "KVP"), s.kvp, "kV"),
          ...(s.maxMA !== undefined ? [num(dcm("113833", "Maximum X-Ray Tube Current"), s.maxMA, "mA")] : []),
          ...(s.mA !== undefined ? [num(dcm("113734", "X-Ray Tube Current"), s.mA, "mA")] : []),
          num(dcm("113834", "Exposure Time per Rotation"), 0.5, "s"),
        ]),
      ),
    ]),
    container(dcm("113829", "CT Dose"), [
      num(dcm("113830", "Mean CTDIvol"), e.ctdiVol ?? 10, "mGy"),
      codeValue(dcm("113835", "CTDIw Phantom Type"), e.phantom ?? dcm("113691", "IEC Body Dosimetry Phantom")),
      num(dcm("113838", "DLP"), e.dlp ?? 250, "mGy.cm"),
    ]),
  ]);
}

function ctRdsr(o: {
  events?: CtEventSpec[];
  accumulated?: boolean;
  charset?: string | Uint8Array | null;
  procedure?: ReturnType<typeof code>;
  header?: Element[];
  sopInstanceUid?: string | null;
}): Item {
  const events = o.events ?? [{}];
  const content: Item[] = [
    codeValue(PROCEDURE_REPORTED, o.procedure ?? CT_PROCEDURE_SRT, "HAS CONCEPT MOD"),
    codeValue(dcm("121005", "Observer Type"), dcm("121007", "Device"), "HAS OBS CONTEXT"),
    uidValue(dcm("121012", "Device Observer UID"), "1.2.826.0.1.3680043.10.1.900", "HAS OBS CONTEXT"),
  ];
  if (o.accumulated !== false) {
    let dlpTotal = 0;
    for (const e of events) dlpTotal += e.dlp ?? 250;
    content.push(
      container(dcm("113811", "CT Accumulated Dose Data"), [
        num(dcm("113812", "Total Number of Irradiation Events"), events.length, "{events}"),
        num(dcm("113813", "CT Dose Length Product Total"), dlpTotal, "mGy.cm"),
      ]),
    );
  }
  events.forEach((e, i) => content.push(ctAcquisition(e, i)));
  return srDocument({ root: XRAY_DOSE_REPORT, content, charset: o.charset ?? null, header: o.header ?? [], sopInstanceUid: o.sopInstanceUid });
}

function projectionRdsr(o: { dap: Item; totalDap?: Item; eventType?: ReturnType<typeof code> }): Item {
  return srDocument({
    root: XRAY_DOSE_REPORT,
    content: [
      codeValue(PROCEDURE_REPORTED, PROJECTION_PROCEDURE, "HAS CONCEPT MOD"),
      uidValue(dcm("121012", "Device Observer UID"), "1.2.826.0.1.3680043.10.1.901", "HAS OBS CONTEXT"),
      container(dcm("113702", "Accumulated X-Ray Dose Data"), [
        o.totalDap ?? num(dcm("113722", "Dose Area Product Total"), 12.5, "dGy.cm2"),
        num(dcm("113730", "Total Fluoro Time"), 2, "min"),
      ]),
      container(dcm("113706", "Irradiation Event X-Ray Data"), [
        uidValue(dcm("113769", "Irradiation Event UID"), "1.2.826.0.1.3680043.10.1.200"),
        dateTimeValue(dcm("111526", "DateTime Started"), "20240131093512.5+0100"),
        codeValue(dcm("113721", "Irradiation Event Type"), o.eventType ?? dcm("113611", "Stationary Acquisition")),
        o.dap,
        // Source parameters nested in a container (TID 10003B)
        container(dcm("113771", "X-Ray Source"), [
          num(dcm("113733", "KVP"), "70\\80", "kV"),
          num(dcm("113824", "Exposure Time"), 250, "ms"),
          num(dcm("113736", "Exposure"), 4500, "uA.s"),
        ]),
      ]),
    ],
  });
}

const parse = (items: Item, enc = utf8, name = "synthetic.dcm") => parseDicom(part10(items, enc), name);

describe("character sets", () => {
  it("decodes UTF-8 (ISO_IR 192) text inside the content tree", () => {
    const { report } = parse(ctRdsr({ charset: "ISO_IR 192", events: [{ protocol: "testæøå" }] }), utf8);
    expect(report.ok).toBe(true);
    expect(report.events[0]?.protocol).toBe("testæøå");
  });

  it("decodes Latin-1 (ISO_IR 100) text inside the content tree", () => {
    const { report } = parse(ctRdsr({ charset: "ISO_IR 100", events: [{ protocol: "testæøå" }] }), latin1);
    expect(report.ok).toBe(true);
    expect(report.events[0]?.protocol).toBe("testæøå");
  });

  it("decodes a multi-valued ISO 2022 set (\\ISO 2022 IR 87) with Japanese names", () => {
    // PS3.5 Annex H example: Yamada^Tarou=山田^太郎=やまだ^たろう
    const esc = (s: string) => Uint8Array.from(Buffer.from(s, "latin1"));
    const jis = (...codes: number[]) => Uint8Array.from(codes.flatMap((c) => [c >> 8, c & 0xff]));
    const cat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));
    const toJis = esc("\x1b$B");
    const toAscii = esc("\x1b(B");
    const name = cat(
      esc("Yamada^Tarou="),
      toJis, jis(0x3b33, 0x4544), toAscii, esc("^"), toJis, jis(0x4240, 0x4f3a), toAscii, esc("="),
      toJis, jis(0x2464, 0x245e, 0x2440), toAscii, esc("^"), toJis, jis(0x243f, 0x246d, 0x2426), toAscii,
    );
    const protocol = cat(toJis, jis(0x3b33, 0x4544), toAscii, esc(" CT"));
    const doc = ctRdsr({
      charset: "\\ISO 2022 IR 87",
      events: [{ protocol }],
      header: [{ tag: "PatientName", vr: "PN", value: name }],
    });
    const { report, identity } = parse(doc);
    expect(report.ok).toBe(true);
    expect(identity.patientName).toBe("Yamada^Tarou=山田^太郎=やまだ^たろう");
    expect(report.events[0]?.protocol).toBe("山田 CT");
  });
});

describe("units", () => {
  it("converts DAP in dGy.cm2 to Gy·m² (×1e-5) and ms, uA.s, min by their codes", () => {
    const { report } = parse(projectionRdsr({ dap: num(dcm("122130", "Dose Area Product"), 12.5, "dGy.cm2") }));
    expect(report.kind).toBe("projection-rdsr");
    expect(report.events[0]?.dap_Gym2).toBeCloseTo(12.5e-5, 12);
    expect(report.totals.dapTotal_Gym2).toBeCloseTo(12.5e-5, 12);
    expect(report.totals.fluoroTimeTotal_s).toBe(120);
    expect(report.events[0]?.exposureTime_s).toBeCloseTo(0.25, 12);
    expect(report.events[0]?.mAs).toBeCloseTo(4.5, 12);
    expect(report.events[0]?.kvp).toBe(75); // per-pulse values: mean
    expect(report.events[0]?.dateTime).toBe("2024-01-31T09:35:12.5");
  });

  it("leaves a value in an unknown unit null and says so", () => {
    const { report } = parse(projectionRdsr({ dap: num(dcm("122130", "Dose Area Product"), 3, "furlong.Gy") }));
    expect(report.ok).toBe(true);
    expect(report.events[0]?.dap_Gym2).toBeNull();
    expect(report.warnings.some((w) => w.includes("122130") && w.includes("furlong.Gy") && w.includes("synthetic.dcm"))).toBe(true);
  });

  it("refuses a unit of the wrong quantity", () => {
    const { report } = parse(projectionRdsr({ dap: num(dcm("122130", "Dose Area Product"), 3, "mGy") }));
    expect(report.events[0]?.dap_Gym2).toBeNull();
    expect(report.warnings.some((w) => w.includes("122130") && w.includes('"mGy"'))).toBe(true);
  });

  it("accepts a non-UCUM vendor spelling with a warning naming object, concept and unit", () => {
    const { report } = parse(projectionRdsr({ dap: num(dcm("122130", "Dose Area Product"), 2.5e-5, "Gym2") }));
    expect(report.events[0]?.dap_Gym2).toBeCloseTo(2.5e-5, 12);
    expect(report.warnings.some((w) => w.startsWith("synthetic.dcm") && w.includes("122130") && w.includes('"Gym2"'))).toBe(true);
  });

  it("gives null and a warning for a NUM with an empty Measured Value Sequence", () => {
    const { report } = parse(projectionRdsr({ dap: num(dcm("122130", "Dose Area Product"), null, "Gy.m2") }));
    expect(report.ok).toBe(true);
    expect(report.events[0]?.dap_Gym2).toBeNull();
    expect(report.warnings.some((w) => w.includes("122130") && /empty Measured Value Sequence/.test(w))).toBe(true);
  });
});

describe("broken input", () => {
  const whole = part10(ctRdsr({ events: [{}, {}, {}] }));

  it("truncated bytes → truncated, naming the object", () => {
    const { report } = parseDicom(whole.subarray(0, Math.floor(whole.length / 2)), "cut.dcm");
    expect(report.ok).toBe(false);
    expect(report.error?.code).toBe("truncated");
    expect(report.error?.message).toContain("cut.dcm");
  });

  it("random bytes → not-dicom", () => {
    let seed = 12345;
    const bytes = new Uint8Array(4096).map(() => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return (seed >>> 16) & 0xff;
    });
    bytes[0] = 0x7f; // not a group 0002/0008 start, so not a raw dataset either
    const { report } = parseDicom(bytes, "noise.bin");
    expect(report.ok).toBe(false);
    expect(report.error?.code).toBe("not-dicom");
    expect(report.error?.message).toContain("noise.bin");
  });

  it("empty buffer → ok:false", () => {
    const { report } = parseDicom(new Uint8Array(0), "empty.dcm");
    expect(report.ok).toBe(false);
    expect(report.error?.message).toContain("empty.dcm");
  });

  it("missing SOP Instance UID → missing-attribute", () => {
    const { report } = parse(ctRdsr({ sopInstanceUid: null }), utf8, "nouid.dcm");
    expect(report.ok).toBe(false);
    expect(report.error?.code).toBe("missing-attribute");
    expect(report.error?.message).toContain("nouid.dcm");
  });

  it("never throws on damaged bytes", () => {
    let seed = 99;
    const rnd = () => {
      seed = (seed * 1664525 + 1013904223) >>> 0;
      return seed / 2 ** 32;
    };
    for (let k = 0; k < 300; k++) {
      const b = whole.slice();
      const flips = 1 + Math.floor(rnd() * 8);
      for (let f = 0; f < flips; f++) b[132 + Math.floor(rnd() * (b.length - 132))] = Math.floor(rnd() * 256);
      const cut = rnd() < 0.3 ? b.subarray(0, Math.floor(rnd() * b.length)) : b;
      const r = parseDicom(cut, `fuzz-${k}`);
      expect(typeof r.report.ok).toBe("boolean");
      if (!r.report.ok) expect(r.report.error?.message).toContain(`fuzz-${k}`);
    }
  });

  it("reads a raw dataset (no Part 10 header) given its transfer syntax", () => {
    const raw = encodeDataset(ctRdsr({}));
    const { report } = parseDicom(raw, "dimse", { rawTransferSyntax: "1.2.840.10008.1.2.1" });
    expect(report.ok).toBe(true);
    expect(report.kind).toBe("ct-rdsr");
  });
});

describe("classification", () => {
  it("a valid SR with another root (126000 imaging measurement report) is not-dose", () => {
    const doc = srDocument({
      sopClassUid: "1.2.840.10008.5.1.4.1.1.88.33",
      root: dcm("126000", "Imaging Measurement Report"),
      content: [textValue(dcm("121106", "Comment"), "nothing about dose")],
    });
    const { report } = parse(doc);
    expect(report.ok).toBe(true);
    expect(report.kind).toBe("not-dose");
    expect(report.events).toEqual([]);
  });

  it("a CT RDSR with no events is ok with events [] and absent totals null, never 0", () => {
    const { report } = parse(ctRdsr({ events: [], accumulated: false }));
    expect(report.ok).toBe(true);
    expect(report.kind).toBe("ct-rdsr");
    expect(report.modality).toBe("CT");
    expect(report.events).toEqual([]);
    for (const v of Object.values(report.totals)) expect(v).toBeNull();
  });

  it("recognises CT by the SCT code as well as the SRT code, not by Modality", () => {
    const { report } = parse(ctRdsr({ procedure: CT_PROCEDURE_SCT, header: [] }));
    expect(report.kind).toBe("ct-rdsr");
    expect(report.modality).toBe("CT");
  });

  it("recognises CT by its containers when the procedure is not stated as CT (Enhanced SR)", () => {
    const doc = ctRdsr({ procedure: dcm("113704", "Projection X-Ray") });
    const sop = doc.find((e) => e.tag === "SOPClassUID");
    if (sop) sop.value = "1.2.840.10008.5.1.4.1.1.88.22";
    expect(parse(doc).report.kind).toBe("ct-rdsr");
  });

  it("a projection RDSR with fluoroscopy events is RF", () => {
    const { report } = parse(projectionRdsr({ dap: num(dcm("122130", "Dose Area Product"), 1e-5, "Gy.m2"), eventType: code("44491008", "SCT", "Fluoroscopy") }));
    expect(report.modality).toBe("RF");
    expect(report.events[0]?.acquisitionType).toBe("Fluoroscopy");
  });

  it("a radiopharmaceutical RDSR gives agent, nuclide, activity in MBq and the administration time", () => {
    const doc = srDocument({
      sopClassUid: "1.2.840.10008.5.1.4.1.1.88.68",
      root: dcm("113500", "Radiopharmaceutical Radiation Dose Report"),
      content: [
        container(dcm("113502", "Radiopharmaceutical Administration"), [
          codeValue(code("349358000", "SCT", "Radiopharmaceutical agent"), code("35321007", "SCT", "Fluorodeoxyglucose F^18^"), "CONTAINS", [
            codeValue(code("89457008", "SCT", "Radionuclide"), code("77004003", "SCT", "^18^Fluorine"), "HAS PROPERTIES"),
          ]),
          uidValue(dcm("113503", "Radiopharmaceutical Administration Event UID"), "1.2.826.0.1.3680043.10.1.300"),
          dateTimeValue(dcm("123003", "Radiopharmaceutical Start DateTime"), "20240131101500"),
          num(dcm("113507", "Administered activity"), 10, "mCi"),
        ]),
      ],
    });
    const { report } = parse(doc);
    expect(report.kind).toBe("radiopharmaceutical-rdsr");
    expect(report.modality).toBe("NM");
    expect(report.totals.radiopharmaceutical).toBe("Fluorodeoxyglucose F^18^");
    expect(report.totals.radionuclide).toBe("^18^Fluorine");
    expect(report.totals.administeredActivity_MBq).toBeCloseTo(370, 9);
    expect(report.events[0]?.dateTime).toBe("2024-01-31T10:15:00");
  });

  it("routes image SOP classes through the image seam; without an extractor they are not-dose with a warning", () => {
    const image: Item = [
      { tag: "SOPClassUID", vr: "UI", value: "1.2.840.10008.5.1.4.1.1.2" },
      { tag: "SOPInstanceUID", vr: "UI", value: "1.2.826.0.1.3680043.10.1.500" },
      { tag: "Modality", vr: "CS", value: "CT" },
    ];
    const previous = setImageDoseExtractor(null);
    try {
      const { report } = parse(image);
      expect(report.ok).toBe(true);
      expect(report.kind).toBe("not-dose");
      expect(report.warnings.some((w) => w.includes("image-header dose extraction"))).toBe(true);
      setImageDoseExtractor(() => ({ kind: "ct-image", events: [], totals: { ctDlpTotal_mGycm: 5 }, warnings: ["w"] }));
      const second = parse(image).report;
      expect(second.kind).toBe("ct-image");
      expect(second.modality).toBe("CT");
      expect(second.totals.ctDlpTotal_mGycm).toBe(5);
      expect(second.totals.dapTotal_Gym2).toBeNull();
    } finally {
      setImageDoseExtractor(previous);
    }
  });
});

describe("CT template details", () => {
  it("reports the first source of a dual-source event and the source count", () => {
    const { report } = parse(ctRdsr({ events: [{ sources: [{ kvp: 100, mA: 399 }, { kvp: 140, mA: 308 }] }] }));
    const e = report.events[0];
    expect(e?.kvp).toBe(100);
    expect(e?.tubeCurrent_mA).toBe(399);
    expect(e?.xraySourceCount).toBe(2);
    expect(e?.scanLength_mm).toBe(250); // 25 cm
    expect(e?.mAs).toBeNull(); // not stated, not derived
  });

  it("falls back to the maximum tube current when the mean is absent", () => {
    const { report } = parse(ctRdsr({ events: [{ sources: [{ kvp: 120, maxMA: 450 }] }] }));
    expect(report.events[0]?.tubeCurrent_mA).toBe(450);
  });

  it("reads the phantom by code whatever the meaning says", () => {
    const { report } = parse(ctRdsr({ events: [{ phantom: dcm("113690", "IEC 160mm Head CT Dosimetry Phantom") }, { phantom: dcm("113691", "something new") }] }));
    expect(report.events.map((e) => e.phantom)).toEqual(["head16", "body32"]);
  });

  it("fills header fields, patient summary and identity, and keeps identity out of the report", () => {
    const { report, identity } = parse(
      ctRdsr({
        header: [
          { tag: "PatientName", vr: "PN", value: "Jones^Dafydd" },
          { tag: "PatientID", vr: "LO", value: "H123456" },
          { tag: "PatientAge", vr: "AS", value: "006M" },
          { tag: "PatientSex", vr: "CS", value: "F" },
          { tag: "PatientWeight", vr: "DS", value: "7.5" },
          { tag: "PatientSize", vr: "DS", value: "0.66" },
          { tag: "AccessionNumber", vr: "SH", value: "ACC1" },
          { tag: "Manufacturer", vr: "LO", value: "ACME" },
          {
            tag: "OtherPatientIDsSequence",
            vr: "SQ",
            value: [[
              { tag: "PatientID", vr: "LO", value: "943 476 5919" },
              { tag: "IssuerOfPatientID", vr: "LO", value: "NHS" },
            ]],
          },
        ],
      }),
    );
    expect(report.studyDate).toBe("2024-01-31");
    expect(report.studyDateTime).toBe("2024-01-31T09:30:15.25");
    expect(report.patient).toEqual({ sex: "F", ageYears: 0.5, weightKg: 7.5, heightM: 0.66 });
    expect(report.accessionNumber).toBe("ACC1");
    expect(report.device.manufacturer).toBe("ACME");
    expect(report.device.observerUid).toBe("1.2.826.0.1.3680043.10.1.900");
    expect(identity).toMatchObject({ patientId: "H123456", patientName: "Jones^Dafydd", nhsNumberCandidate: "9434765919" });
    const json = JSON.stringify(report);
    expect(json).not.toContain("Dafydd");
    expect(json).not.toContain("H123456");
    expect(json).not.toContain("9434765919");
  });
});

describe("SR trees", () => {
  it("skips by-reference items", () => {
    const doc = ctRdsr({});
    const content = doc.find((e) => e.tag === "ContentSequence");
    (content?.value as Item[]).push(byReference("CONTAINS", [1, 4]));
    const { report } = parse(doc);
    expect(report.ok).toBe(true);
    expect(report.events).toHaveLength(1);
  });

  it("does not hang on an absurdly deep tree, and says it stopped", () => {
    let deep: Item = textValue(dcm("121106", "Comment"), "bottom");
    for (let i = 0; i < 200; i++) deep = container(dcm("113819", "CT Acquisition"), [deep]);
    const doc = ctRdsr({ events: [] });
    (doc.find((e) => e.tag === "ContentSequence")?.value as Item[]).push(deep);
    const t0 = performance.now();
    const { report } = parse(doc);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(report.ok).toBe(true);
    expect(report.warnings.some((w) => /deeper than 64/.test(w))).toBe(true);
  });
});
