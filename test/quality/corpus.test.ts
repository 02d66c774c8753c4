/**
 * The data-quality report over the real corpus (../shared/rdsr-corpus, read in place): every file
 * imported as trust RVV, then the gaps those files really have are found per device. Each
 * expectation below names the MANIFEST.md description or the `sievert parse --json` output it
 * comes from. Outside CI a missing corpus skips these tests with a message; with CI=true it fails.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importPaths } from "../../src/cli/import-command.ts";
import type { OpenedDatabase, SievertDb } from "../../src/db/client.ts";
import { parseDicom } from "../../src/dicom/index.ts";
import { storeParsedObject } from "../../src/ingest/store.ts";
import { quarantineSummary } from "../../src/quality/quarantine.ts";
import { qualityReport, type DeviceQuality, type KindQuality, type QualityReport } from "../../src/quality/report.ts";
import { CORPUS_DIR, corpusAvailable, corpusFile } from "../helpers/corpus.ts";
import { openTestDatabase, TEST_KEY } from "../helpers/db.ts";

const HAVE_CORPUS = corpusAvailable();

let opened: OpenedDatabase;
let db: SievertDb;
let report: QualityReport;

beforeAll(async () => {
  if (!HAVE_CORPUS) return;
  opened = await openTestDatabase();
  db = opened.db;
  const summary = await importPaths(db, [CORPUS_DIR], { trustOds: "RVV", key: TEST_KEY, concurrency: 1 });
  // 73 files: 3 are not dose objects, and RF-RDSR-Siemens-Zee_adjusted.dcm re-sends the SOP Instance
  // UID of RF-RDSR-Siemens-Zee.dcm with different bytes (answered "already stored"; nothing is kept of it).
  expect(summary).toMatchObject({ stored: 69, duplicate: 1, notDose: 3, quarantined: 0 });
  report = await qualityReport(db, {});
}, 240_000);
afterAll(async () => {
  await opened?.close();
});

/** The device whose model and station (or serial) match. */
function device(model: string | null, station?: string): DeviceQuality {
  const found = report.items.filter((d) => (d.device?.model ?? null) === model && (station === undefined || d.device?.stationName === station));
  if (found.length !== 1) throw new Error(`${found.length} devices match ${model} / ${station}: ${report.items.map((d) => d.label).join("; ")}`);
  return found[0] as DeviceQuality;
}
function kind(d: DeviceQuality, k: string, modality?: string): KindQuality {
  const found = d.kinds.find((x) => x.kind === k && (modality === undefined || x.modality === modality));
  if (!found) throw new Error(`${d.label}: no ${k} ${modality ?? ""}`);
  return found;
}
const expected = (k: KindQuality, field: string) => k.fields.find((f) => f.field === field)?.expected ?? null;
const gaps = (d: DeviceQuality) => d.findings.filter((f) => f.type === "missing-field").map((f) => `${f.kind} ${f.field} ${f.count}/${f.of}`);

describe.skipIf(!HAVE_CORPUS)("data quality over the real corpus", () => {
  it("lists the DAP a Canon CXDI RDSR lacks (MANIFEST: DAP NUM items with an empty Measured Value Sequence)", () => {
    const d = device("CXDI Control Software NE", "EmptySequence");
    expect(gaps(d)).toEqual(["projection-rdsr dap 2/2", "projection-rdsr dapTotal 1/1"]);
    const w = kind(d, "projection-rdsr", "DX").warnings.find((x) => x.category === "empty-measured-value");
    expect(w?.detail).toContain("Dose Area Product (DCM 122130)");
  });

  it("lists the protocol the GE LightSpeed VCT Enhanced SR never states, not its localizers' missing CTDIvol (16 Constant Angle events)", () => {
    const d = device("LightSpeed VCT");
    const k = kind(d, "ct-rdsr", "CT");
    expect(expected(k, "protocol")).toMatchObject({ of: 27, present: 0, missing: 27 });
    expect(expected(k, "ctdivol")).toMatchObject({ of: 11, present: 11, missing: 0, excludedEvents: 16 });
    expect(gaps(d)).toEqual(["ct-rdsr protocol 27/27"]);
    // MANIFEST: units written "mGycm"
    expect(k.warnings.find((w) => w.category === "non-ucum-unit")?.detail).toContain("mGycm");
    expect(d.findings.some((f) => f.type === "unit-anomaly" && f.message.includes("mGycm"))).toBe(true);
  });

  it("lists the CTDIvol a CT image header lacks (MANIFEST: CT image without CTDIvol)", () => {
    const d = device("RHAPSODE");
    expect(gaps(d)).toContain("ct-image ctdivol 1/1");
  });

  it("does not expect a DLP from CT image headers, but reports their missing phantom (MANIFEST: CTDIvol (0018,9345), no DLP)", () => {
    const k = kind(device("Ingenuity CT"), "ct-image", "CT");
    const dlp = k.fields.find((f) => f.field === "dlp");
    expect(dlp).toMatchObject({ present: 0, of: 2, share: 0, expected: null });
    expect(expected(k, "ctdivol")).toMatchObject({ present: 2, of: 2, missing: 0 });
    expect(expected(k, "phantom")).toMatchObject({ present: 0, of: 2, missing: 2 });
  });

  it("lists a missing Device Observer UID (Canon Alphenix) and the protocol of a 316-event RF RDSR without manufacturer", () => {
    expect(gaps(device("DFP-8000D"))).toContain("projection-rdsr observerUid 1/1");
    const nameless = report.items.filter((d) => d.device !== null && d.device.manufacturer === null && d.events === 316);
    expect(nameless).toHaveLength(1);
    expect(gaps(nameless[0] as DeviceQuality)).toContain("projection-rdsr protocol 316/316");
  });

  it("expects dose at the reference point and fluoro time from the Siemens Fluorospot's RF RDSR but not from its DX one", () => {
    const d = device("Fluorospot Compact FD", "dRFMax-1234");
    expect(expected(kind(d, "projection-rdsr", "RF"), "rpDoseTotal")).toMatchObject({ present: 1, of: 1 });
    expect(expected(kind(d, "projection-rdsr", "DX"), "rpDoseTotal")).toBeNull();
    expect(kind(d, "projection-rdsr", "DX").warnings.find((w) => w.unit)?.detail).toContain("Gym2"); // MANIFEST: units "Gym2"
  });

  it("never asks a CT device for AGD or a mammography device for DAP", () => {
    for (const d of report.items) {
      for (const f of d.findings) {
        if (f.kind?.startsWith("ct-")) expect(["agd", "agdTotal", "compressionThickness", "dap", "dapTotal"]).not.toContain(f.field);
        if (f.modality === "MG") expect(["dap", "dapTotal", "ctdivol", "dlp"]).not.toContain(f.field);
      }
    }
    expect(gaps(device("Senographe Pristina")).filter((g) => g.includes("agd"))).toEqual([]);
  });

  it("flags the NM images whose activity is MBq written in the Bq field (MANIFEST: RadionuclideTotalDose 764)", () => {
    const k = kind(device("Encore2"), "nm-image", "NM");
    expect(k.implausible).toEqual([expect.objectContaining({ field: "activity", count: 3, of: 3, min: 0.00032, max: 0.000764 })]);
  });

  it("finds the Siemens cumulative RDSRs repeating earlier events, and not the continued pair with new events", () => {
    // MANIFEST: Multi-1/2/3 are cumulative (1, 2, 3 events); Continued-1/2 carry different events.
    const multi = kind(device("SOMATOM Confidence"), "ct-rdsr", "CT").repeatedEvents;
    expect(multi).toMatchObject({ objects: 2, events: 3, otherStudy: 0 });
    expect(kind(device("SOMATOM Definition Flash", "CONTINUED"), "ct-rdsr", "CT").repeatedEvents.objects).toBe(0);
    const total = report.items.flatMap((d) => d.kinds).reduce((a, k) => a + k.repeatedEvents.events, 0);
    expect(total).toBe(3);
  });

  it("treats imported files as historical: no clock finding, and their delay counted apart from live objects", () => {
    for (const d of report.items) {
      expect(d.clock.live.objects).toBe(0);
      expect(d.findings.filter((f) => f.type === "clock")).toEqual([]);
    }
    const d = device("SOMATOM Confidence");
    expect(d.clock.historical.objects).toBe(3);
    expect(d.clock.historical.medianDelayDays).toBeGreaterThan(365 * 8); // studies of 2018-01-05
  });

  it("says that a re-sent SOP Instance UID (Siemens Zee and Zee_adjusted) is not recorded, rather than counting it", () => {
    expect(report.resends.recorded).toBe(false);
    expect(device("AXIOM-Artis", "ArtisZee").objects).toBe(1);
  });

  it("recovers the device of a quarantined object from its kept bytes", async () => {
    const bytes = corpusFile("ct/CT-RDSR-Siemens-Multi-1.dcm");
    const parsed = parseDicom(bytes, "multi-1.dcm");
    parsed.report.sopInstanceUid = null; // as if the object had none: quarantined as missing-attribute
    const r = await storeParsedObject(db, parsed, bytes, { source: "dimse", trustOds: "RVV", name: "CTSCANNER", key: TEST_KEY });
    expect(r.outcome).toBe("quarantined");
    const s = await quarantineSummary(db, { trust: "RVV" });
    expect(s.byCode).toEqual([{ errorCode: "missing-attribute", objects: 1 }]);
    expect(s.recent[0]?.device).toMatchObject({ manufacturer: "SIEMENS", model: "SOMATOM Confidence", stationName: "CTAWP12345" });
  });
});
