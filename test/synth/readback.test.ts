/**
 * Every generated object read back with dcmjs (DicomMessage.readFile + naturalizeDataset): File
 * Meta, header attributes, SR structure, UCUM units, and the dose values where they should be.
 */
import { describe, expect, it } from "vitest";
import { C, REGION, SOP_CLASS, V, buildProjectionRdsr, buildSampleSet, hashUid, toPart10, type ProjectionRdsrParams } from "../../src/synth/index.ts";
import { allItems, child, childrenWith, codeOf, conceptOf, measured, numValue, readBack, seq, textValue, type Item } from "./helpers.ts";

const set = buildSampleSet({ seed: 1 });

/** dcmjs decodes text inside sequences as Latin-1 even under ISO_IR 192 (dcmjs #503/#508). */
function utf8(s: string): string {
  return /[\u00c0-\u00ff]/.test(s) ? Buffer.from(s, "latin1").toString("utf8") : s;
}

const VALUE_TYPES = new Set(["CONTAINER", "NUM", "CODE", "TEXT", "UIDREF", "DATETIME"]);
const RELATIONSHIPS = new Set(["CONTAINS", "HAS OBS CONTEXT", "HAS CONCEPT MOD", "HAS PROPERTIES"]);

describe.each(set.objects.map((o) => [o.info.path, o] as const))("%s", (_path, o) => {
  const { dataset: ds, meta } = readBack(o.bytes);
  const f = o.info;

  it("has File Meta and header attributes", () => {
    expect(meta.MediaStorageSOPClassUID).toBe(ds.SOPClassUID);
    expect(meta.MediaStorageSOPInstanceUID).toBe(ds.SOPInstanceUID);
    expect(meta.TransferSyntaxUID).toBe("1.2.840.10008.1.2.1");
    expect(String(meta.ImplementationClassUID)).toMatch(/^2\.25\.\d+$/);
    expect(ds.SOPClassUID).toBe(f.sopClassUid);
    expect(ds.SOPInstanceUID).toBe(f.sopInstanceUid);
    expect(ds.Modality).toBe("SR");
    expect(ds.SpecificCharacterSet).toBe("ISO_IR 192");
    for (const k of [
      "PatientID", "IssuerOfPatientID", "PatientName", "PatientBirthDate", "PatientSex", "PatientAge",
      "StudyInstanceUID", "SeriesInstanceUID", "StudyDate", "StudyTime", "AccessionNumber", "StudyDescription",
      "Manufacturer", "ManufacturerModelName", "StationName", "DeviceSerialNumber", "InstitutionName",
    ]) {
      expect(ds[k], k).toBeTruthy();
    }
    expect(ds.IssuerOfPatientID).toBe(f.ods);
    expect(String(ds.StudyDate)).toBe(f.studyDate.replaceAll("-", ""));
    const other = seq(ds.OtherPatientIDsSequence)[0]!;
    expect(other.PatientID).toBe(f.nhsNumber);
    expect(other.IssuerOfPatientID).toBe("NHS");
    for (const uid of [ds.SOPInstanceUID, ds.StudyInstanceUID, ds.SeriesInstanceUID]) expect(String(uid)).toMatch(/^2\.25\.[1-9]\d{0,38}$/);
    if (f.modality === "CT" || f.modality === "NM") expect(Number(ds.PatientWeight)).toBeGreaterThan(40);
  });

  it("is a well-formed SR tree with UCUM units", () => {
    expect(ds.ValueType).toBe("CONTAINER");
    expect(ds.CompletionFlag).toBe("COMPLETE");
    expect(ds.VerificationFlag).toBe("UNVERIFIED");
    const tpl = seq(ds.ContentTemplateSequence)[0]!;
    expect(tpl.MappingResource).toBe("DCMR");
    const root = conceptOf(ds as Item)!;
    if (f.modality === "NM") {
      expect(ds.SOPClassUID).toBe(SOP_CLASS.radiopharmaceuticalRadiationDoseSr);
      expect(tpl.TemplateIdentifier).toBe("10021");
      expect(root.value).toBe("113500");
    } else {
      expect(ds.SOPClassUID).toBe(SOP_CLASS.xRayRadiationDoseSr);
      expect(tpl.TemplateIdentifier).toBe(f.modality === "CT" ? "10011" : "10001");
      expect(root.value).toBe("113701");
    }
    for (const item of allItems(ds as Item)) {
      expect(VALUE_TYPES.has(String(item.ValueType)), String(item.ValueType)).toBe(true);
      expect(RELATIONSHIPS.has(String(item.RelationshipType)), String(item.RelationshipType)).toBe(true);
      const c = conceptOf(item)!;
      expect(c.value && c.scheme && c.meaning).toBeTruthy();
      if (item.ValueType === "NUM") {
        const m = measured(item)!;
        expect(m.unit.scheme).toBe("UCUM");
        expect(Number.isFinite(m.value)).toBe(true);
      }
      if (item.ValueType === "CODE") expect(codeOf(seq(item.ConceptCodeSequence)[0])?.value).toBeTruthy();
      if (item.ValueType === "UIDREF") expect(String(item.UID)).toMatch(/^2\.25\.\d+$/);
      if (item.ValueType === "DATETIME") expect(String(item.DateTime)).toMatch(/^\d{14}$/);
      if (item.ValueType === "CONTAINER") expect(item.ContinuityOfContent).toBe("SEPARATE");
    }
  });

  if (f.modality !== "NM") {
    it("names the device in the observer context", () => {
      const obs = child(ds as Item, C.deviceObserverUid.value)!;
      expect(obs.RelationshipType).toBe("HAS OBS CONTEXT");
      expect(String(obs.UID)).toMatch(/^2\.25\./);
    });
  }

  if (f.modality === "CT") {
    it("has a DLP total equal to the sum of event DLPs, in mGy.cm", () => {
      const acc = child(ds as Item, "113811")!;
      const events = childrenWith(ds as Item, "113819");
      expect(numValue(acc, "113812")).toBe(events.length);
      expect(measured(child(acc, "113813"))!.unit.value).toBe("mGy.cm");
      const dlps = events.map((e) => measured(child(child(e, "113829")!, "113838"))!);
      for (const d of dlps) expect(d.unit.value).toBe("mGy.cm");
      const sum = dlps.reduce((a, d) => a + d.value, 0);
      expect(numValue(acc, "113813")).toBeCloseTo(sum, 6);
      expect(numValue(acc, "113813")).toBe(f.expected.totals.ctDlpTotal_mGycm);
      const ctdis = events.map((e) => measured(child(child(e, "113829")!, "113830"))!);
      expect(ctdis.map((m) => m.value)).toEqual(f.expected.ctdiVol_mGy);
      for (const m of ctdis) expect(m.unit.value).toBe("mGy");
      const phantoms = events.map((e) => codeOf(seq(child(child(e, "113829")!, "113835")!.ConceptCodeSequence)[0])!.value);
      for (const p of phantoms) expect(["113690", "113691"]).toContain(p);
      const sources = events.map((e) => childrenWith(child(e, "113822")!, "113831").length);
      expect(sources).toEqual(f.expected.xraySourceCounts);
      expect(events.map((e) => numValue(child(e, "113822"), "113823"))).toEqual(sources);
      expect(events.map((e) => utf8(textValue(e, "125203")!))).toEqual(f.expected.protocols);
      for (const e of events) {
        const params = child(e, "113822")!;
        expect(measured(child(params, "113824"))!.unit.value).toBe("s");
        expect(measured(child(params, "113825"))!.unit.value).toBe("mm");
        expect(measured(child(params, "113827"))!.unit.value).toBe("mm");
        const pitch = child(params, "113828");
        if (pitch) expect(measured(pitch)!.unit.value).toBe("{ratio}");
        for (const s of childrenWith(params, "113831")) {
          expect(measured(child(s, "113733"))!.unit.value).toBe("kV");
          expect(measured(child(s, "113734"))!.unit.value).toBe("mA");
          expect(measured(child(s, "113833"))!.unit.value).toBe("mA");
          expect(measured(child(s, "113834"))!.unit.value).toBe("s");
        }
      }
    });
  }

  if (f.modality === "DX" || f.modality === "RF") {
    it("has DAP and dose totals matching the events, in Gy.m2 and Gy", () => {
      const acc = child(ds as Item, "113702")!;
      const events = childrenWith(ds as Item, "113706");
      expect(events).toHaveLength(f.expected.eventCount);
      const daps = events.map((e) => measured(child(e, "122130"))!);
      for (const d of daps) expect(d.unit.value).toBe("Gy.m2");
      expect(daps.map((d) => d.value)).toEqual(f.expected.dap_Gym2);
      expect(measured(child(acc, "113722"))!.unit.value).toBe("Gy.m2");
      expect(numValue(acc, "113722")).toBeCloseTo(daps.reduce((a, d) => a + d.value, 0), 12);
      expect(numValue(acc, "113725")).toBe(f.expected.totals.rpDoseTotal_Gy);
      for (const e of events) {
        expect(measured(child(e, "113738"))!.unit.value).toBe("Gy");
        expect(measured(child(e, "113824"))!.unit.value).toBe("ms");
        expect(measured(child(e, "112011"))!.unit.value).toBe("deg");
        expect(child(e, "113769")).toBeTruthy();
        expect(child(e, "113721")).toBeTruthy();
      }
      if (f.modality === "RF") {
        expect(numValue(acc, "113726")).toBe(f.expected.totals.fluoroDapTotal_Gym2);
        expect(numValue(acc, "113727")).toBe(f.expected.totals.acquisitionDapTotal_Gym2);
        expect(numValue(acc, "113730")).toBe(f.expected.totals.fluoroTimeTotal_s);
        expect(numValue(acc, "113855")).toBe(f.expected.totals.acquisitionTimeTotal_s);
        expect(child(acc, "113728")).toBeTruthy();
        expect(child(acc, "113729")).toBeTruthy();
      } else {
        expect(child(acc, "113726")).toBeUndefined();
      }
    });
  }

  if (f.modality === "MG") {
    it("has AGD per view and accumulated AGD per breast, in mGy", () => {
      const acc = child(ds as Item, "113702")!;
      const events = childrenWith(ds as Item, "113706");
      expect(events.map((e) => numValue(e, "111631"))).toEqual(f.expected.agd_mGy);
      for (const e of events) {
        expect(measured(child(e, "111631"))!.unit.value).toBe("mGy");
        expect(measured(child(e, "111636"))!.unit.value).toBe("mGy");
        expect(measured(child(e, "111633"))!.unit.value).toBe("mm");
        const lat = codeOf(seq(child(e, "111027")!.ConceptCodeSequence)[0])!;
        expect(["80248007", "73056007"]).toContain(lat.value);
        expect(child(e, "111031")).toBeTruthy();
      }
      const perSide = childrenWith(acc, "111637").map((item) => ({
        side: codeOf(seq(child(item, "272741003")!.ConceptCodeSequence)[0])!.value,
        value: measured(item)!.value,
      }));
      const left = perSide.find((s) => s.side === V.leftBreast.value)?.value ?? null;
      const right = perSide.find((s) => s.side === V.rightBreast.value)?.value ?? null;
      expect(left).toBe(f.expected.agdLeft_mGy);
      expect(right).toBe(f.expected.agdRight_mGy);
    });
  }

  if (f.modality === "NM") {
    it("has the administration with agent, radionuclide and activity in MBq", () => {
      const adm = child(ds as Item, "113502")!;
      const agent = child(adm, "349358000")!;
      expect(codeOf(seq(agent.ConceptCodeSequence)[0])!.meaning).toBe("Fluorodeoxyglucose F^18^");
      expect(codeOf(seq(child(agent, "89457008")!.ConceptCodeSequence)[0])!.meaning).toBe("^18^Fluorine");
      const act = measured(child(adm, "113507"))!;
      expect(act.unit.value).toBe("MBq");
      expect(act.value).toBe(f.expected.totals.administeredActivity_MBq);
      expect(child(adm, "123003")!.DateTime).toMatch(/^\d{14}$/);
    });
  }
});

describe("builders for vendor-quirk variants", () => {
  const base: ProjectionRdsrParams = {
    modality: "DX",
    patient: { patientId: "X1", issuerOfPatientId: "RN7", nhsNumber: null, name: "TEST^Quirk", birthDate: "19700101", sex: "O" },
    device: {
      manufacturer: "ACME", model: "DR1", stationName: "ST1", serialNumber: "1", softwareVersions: "1",
      institutionName: "Test Hospital", observerUid: hashUid("quirk-device"),
    },
    study: {
      studyInstanceUid: hashUid("q", "study"), seriesInstanceUid: hashUid("q", "series"), sopInstanceUid: hashUid("q", "sop"),
      date: "20250101", time: "120000", accessionNumber: "Q1", description: "XR Chest PA",
    },
    events: [
      {
        uid: hashUid("q", "ev"), eventType: V.stationaryAcquisition, protocol: "Chest PA", targetRegion: REGION.chest,
        dap_Gym2: { value: 0.12, unit: "dGy.cm2" }, rpDose_Gy: null, kvp: 120, tubeCurrent_mA: 250, exposureTime_ms: 8,
      },
    ],
    totals: { dapTotal_Gym2: { value: 0.12, unit: "dGy.cm2" }, rpDoseTotal_Gy: null },
  };

  it("writes a DAP in dGy.cm2 when asked, and leaves out items given as null", () => {
    const { dataset } = readBack(toPart10(buildProjectionRdsr(base)));
    const acc = child(dataset, "113702")!;
    expect(measured(child(acc, "113722"))).toEqual({ value: 0.12, unit: { value: "dGy.cm2", scheme: "UCUM", meaning: "dGy.cm2" } });
    expect(child(acc, "113725")).toBeUndefined();
    const ev = child(dataset, "113706")!;
    expect(measured(child(ev, "122130"))!.unit.value).toBe("dGy.cm2");
    expect(child(ev, "113738")).toBeUndefined();
    expect(dataset.OtherPatientIDsSequence).toBeUndefined();
  });

  it("writes a NUM with an empty MeasuredValueSequence for `value: null` (missing DAP)", () => {
    const p = { ...base, events: [{ ...base.events[0]!, dap_Gym2: { value: null, unit: "Gy.m2" } }], totals: { dapTotal_Gym2: null } };
    const { dataset } = readBack(toPart10(buildProjectionRdsr(p)));
    const dapItem = child(child(dataset, "113706")!, "122130")!;
    expect(dapItem.ValueType).toBe("NUM");
    expect(seq(dapItem.MeasuredValueSequence)).toHaveLength(0);
    expect(child(child(dataset, "113702")!, "113722")).toBeUndefined();
  });

  it("can leave SpecificCharacterSet out and write legacy SRT codes", () => {
    const p = { ...base, specificCharacterSet: null, device: { ...base.device, legacyCodes: true } };
    const { dataset } = readBack(toPart10(buildProjectionRdsr(p)));
    expect(dataset.SpecificCharacterSet).toBeUndefined();
    const region = codeOf(seq(child(child(dataset, "113706")!, "123014")!.ConceptCodeSequence)[0])!;
    expect(region).toEqual({ value: "T-D3000", scheme: "SRT", meaning: "Chest" });
  });
});
