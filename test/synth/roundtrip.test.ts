/**
 * Round trip: what the generator wrote is what the parser (src/dicom/parse.ts) reads back, in
 * DoseReport units (dose-report.md).
 */
import { describe, expect, it } from "vitest";
import { parseDicom } from "../../src/dicom/parse.ts";
import { buildSampleSet } from "../../src/synth/index.ts";

const set = buildSampleSet({ seed: 1 });
const close = (a: number | null | undefined, b: number | null | undefined, rel = 1e-9): boolean =>
  a !== null && a !== undefined && b !== null && b !== undefined && Math.abs(a - b) <= rel * Math.max(1, Math.abs(b));

describe.each(set.objects.map((o) => [o.info.path, o] as const))("%s", (_path, o) => {
  const f = o.info;
  const { report, identity } = parseDicom(o.bytes, f.path);

  it("parses with the generator's values", () => {
    expect(report.ok, JSON.stringify(report.error)).toBe(true);
    expect(report.sopInstanceUid).toBe(f.sopInstanceUid);
    expect(report.studyInstanceUid).toBe(f.studyInstanceUid);
    expect(report.studyDate).toBe(f.studyDate);
    if (f.modality === "NM") expect(["NM", "PT"]).toContain(report.modality);
    else expect(report.modality).toBe(f.modality);
    expect(identity.nhsNumberCandidate).toBe(f.nhsNumber);
    expect(report.device.observerUid === null).toBe(f.modality === "NM");

    const t = f.expected.totals;
    switch (f.modality) {
      case "CT":
        expect(report.kind).toBe("ct-rdsr");
        expect(close(report.totals.ctDlpTotal_mGycm, t.ctDlpTotal_mGycm)).toBe(true);
        expect(report.totals.ctEventCount).toBe(t.ctEventCount);
        expect(report.events).toHaveLength(f.expected.eventCount);
        expect(report.events.map((e) => e.ctdiVol_mGy)).toEqual(f.expected.ctdiVol_mGy);
        expect(report.events.map((e) => e.protocol)).toEqual(f.expected.protocols);
        expect(report.events.map((e) => e.xraySourceCount)).toEqual(f.expected.xraySourceCounts);
        for (const e of report.events) expect(["head16", "body32"]).toContain(e.phantom);
        break;
      case "DX":
      case "RF":
        expect(report.kind).toBe("projection-rdsr");
        expect(close(report.totals.dapTotal_Gym2, t.dapTotal_Gym2)).toBe(true);
        expect(close(report.totals.rpDoseTotal_Gy, t.rpDoseTotal_Gy)).toBe(true);
        expect(report.events).toHaveLength(f.expected.eventCount);
        report.events.forEach((e, i) => expect(close(e.dap_Gym2, f.expected.dap_Gym2![i])).toBe(true));
        if (f.modality === "RF") {
          expect(close(report.totals.fluoroDapTotal_Gym2, t.fluoroDapTotal_Gym2)).toBe(true);
          expect(close(report.totals.fluoroTimeTotal_s, t.fluoroTimeTotal_s)).toBe(true);
        }
        break;
      case "MG":
        expect(report.kind).toBe("projection-rdsr");
        expect(close(report.totals.agdTotal_mGy, t.agdTotal_mGy, 1e-6)).toBe(true);
        expect(report.events.map((e) => e.agd_mGy)).toEqual(f.expected.agd_mGy);
        break;
      case "NM":
        expect(report.kind).toBe("radiopharmaceutical-rdsr");
        expect(report.totals.administeredActivity_MBq).toBe(t.administeredActivity_MBq);
        expect(report.totals.radiopharmaceutical).toBe("Fluorodeoxyglucose F^18^");
        expect(report.totals.radionuclide).toBe("^18^Fluorine");
        break;
    }
  });
});

describe("UTF-8 text", () => {
  it("reads the protocol testæøå", () => {
    const o = set.objects.find((x) => x.info.expected.protocols.includes("testæøå"))!;
    const { report } = parseDicom(o.bytes, o.info.path);
    expect(report.events.map((e) => e.protocol)).toContain("testæøå");
  });
});
