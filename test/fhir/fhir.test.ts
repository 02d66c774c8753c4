/**
 * The FHIR face (src/fhir) over real ingested objects: synthetic CT, fluoroscopy (RF) and NM
 * RDSRs from sample-rdsr/ (and one corpus CT RDSR naming its irradiation authorising person),
 * stored with the ordinary ingest, read back with app.request(). Every resource is checked by
 * the rule-table validator (src/fhir/data/profile-rules.json: the IG v1.0.0 profiles' required
 * elements and fixed codes), and the values against the DoseReport and against the numbers
 * dcmtk's dsrdump prints for these files.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { OpenAPIHono } from "@hono/zod-openapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, type AppServices, type SievertApp } from "../../src/api/app.ts";
import { runAs, type Principal } from "../../src/auth/principal.ts";
import type { OpenedDatabase } from "../../src/db/client.ts";
import { readHeader } from "../../src/dicom/header.ts";
import { readDicomBytes } from "../../src/dicom/reader/read.ts";
import type { DoseReport } from "../../src/dicom/dose-report.ts";
import { localToFhir } from "../../src/fhir/datetime.ts";
import { dateTimeOf } from "../../src/fhir/sr-details.ts";
import { registerFhirRoutes, searchObservations, validateBundle, validateResource } from "../../src/fhir/index.ts";
import type { FhirResource } from "../../src/fhir/types.ts";
import { ingestBytes } from "../../src/ingest/index.ts";
import { isValidNhsNumber } from "../../src/linkage/nhs-number.ts";
import { corpusAvailable, corpusFile, PROJECT_ROOT } from "../helpers/corpus.ts";
import { openTestDatabase, TEST_KEY } from "../helpers/db.ts";

const HAVE_CORPUS = corpusAvailable();

const RDS = "http://hl7.org/fhir/uv/radiation-dose-summary/StructureDefinition/radiation-dose-summary";
const MODALITY_DEVICE = "http://hl7.org/fhir/uv/radiation-dose-summary/StructureDefinition/modality-device";
const DCM = "http://dicom.nema.org/resources/ontology/DCM";
const SCT = "http://snomed.info/sct";
const UCUM = "http://unitsofmeasure.org";
const NHS = "https://fhir.nhs.uk/Id/nhs-number";
const PSEUDONYM = "urn:sievert:fhir:NamingSystem:patient-pseudonym";

interface Sample {
  file: string;
  trust: string;
  bytes: Uint8Array;
  report: DoseReport;
  sop: string;
  study: string;
  /** Identifiers in the object's header (the test's own reading, to look for leaks). */
  nhsNumber: string | null;
  patientId: string | null;
}

let opened: OpenedDatabase;
let app: SievertApp;
let services: AppServices;
const samples: Record<"ct" | "rf" | "nm", Sample> = {} as Record<"ct" | "rf" | "nm", Sample>;

function readSample(rel: string, trust: string): Omit<Sample, "report" | "sop" | "study"> {
  const buf = readFileSync(join(PROJECT_ROOT, "sample-rdsr", rel));
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  const read = readDicomBytes(bytes, rel);
  if (!read.ok) throw new Error(`${rel}: ${read.message}`);
  const id = readHeader(read.dataset).identity;
  return { file: rel, trust, bytes, nhsNumber: id.nhsNumberCandidate, patientId: id.patientId };
}

async function store(s: Omit<Sample, "report" | "sop" | "study">): Promise<Sample> {
  const r = await ingestBytes(opened.db, s.bytes, { source: "import", trustOds: s.trust, name: s.file, key: TEST_KEY });
  expect(r.outcome, `${s.file} stored`).toBe("stored");
  return { ...s, report: r.report, sop: r.report.sopInstanceUid!, study: r.report.studyInstanceUid! };
}

beforeAll(async () => {
  opened = await openTestDatabase();
  services = { db: opened.db, key: TEST_KEY, maxObjectBytes: 8 * 1024 * 1024 };
  app = createApp(services);
  samples.ct = await store(readSample("RN7/CT/1.dcm", "RN7"));
  samples.rf = await store(readSample("RN7/RF/1.dcm", "RN7"));
  samples.nm = await store(readSample("RPA/NM/1.dcm", "RPA"));
});
afterAll(async () => {
  await opened.close();
});

async function getJson(a: { request: SievertApp["request"] }, path: string, status = 200): Promise<FhirResource> {
  const res = await a.request(path);
  expect(res.status, `${path} → ${res.status}`).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/fhir\+json/);
  return (await res.json()) as FhirResource;
}

type Entry = { fullUrl: string; resource: FhirResource; search: { mode: string } };
const entries = (b: FhirResource): Entry[] => (b.entry ?? []) as unknown as Entry[];
const matches = (b: FhirResource): FhirResource[] => entries(b).filter((e) => e.search.mode === "match").map((e) => e.resource);
const included = (b: FhirResource, type: string): FhirResource[] =>
  entries(b).filter((e) => e.search.mode === "include" && e.resource.resourceType === type).map((e) => e.resource);

interface Component {
  code: { coding: Array<{ system: string; code: string }> };
  valueQuantity?: { value: number; unit: string; system: string; code: string };
  valueCodeableConcept?: { coding?: Array<{ system: string; code: string }>; text?: string };
}
function component(obs: FhirResource, system: string, code: string): Component | undefined {
  return (obs.component as unknown as Component[]).find((c) => c.code.coding.some((k) => k.system === system && k.code === code));
}
function quantity(obs: FhirResource, code: string): Component["valueQuantity"] {
  const c = component(obs, DCM, code);
  expect(c, `component DCM ${code}`).toBeDefined();
  return c!.valueQuantity;
}

async function studyBundle(s: Sample, a: { request: SievertApp["request"] } = app): Promise<FhirResource> {
  const bundle = await getJson(a, `/fhir/Observation?part-of=ImagingStudy/${s.study}&_include=*`);
  expect(validateBundle(bundle)).toEqual([]);
  return bundle;
}

describe("GET /fhir/metadata", () => {
  it("is an R4 CapabilityStatement naming the RadiationDoseSummary profile and the search parameters", async () => {
    const cs = await getJson(app, "/fhir/metadata");
    expect(cs.resourceType).toBe("CapabilityStatement");
    expect(validateResource(cs)).toEqual([]);
    expect(cs.fhirVersion).toBe("4.0.1");
    const rest = (cs.rest as unknown as Array<{ resource: Array<{ type: string; supportedProfile?: string[]; searchParam?: Array<{ name: string }> }> }>)[0]!;
    const obs = rest.resource.find((r) => r.type === "Observation")!;
    expect(obs.supportedProfile).toEqual([RDS]);
    expect(obs.searchParam!.map((p) => p.name)).toEqual(expect.arrayContaining(["code", "patient", "part-of", "date", "identifier"]));
    expect(rest.resource.find((r) => r.type === "Device")!.supportedProfile).toEqual([MODALITY_DEVICE]);
  });

  it("lists the FHIR routes in the OpenAPI document", async () => {
    const doc = (await (await app.request("/openapi.json")).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/fhir/metadata", "/fhir/Observation", "/fhir/Observation/{id}", "/fhir/Patient/{id}"]));
  });
});

describe("CT dose summary", () => {
  it("has every required element of RadiationDoseSummary, the LOINC code and the DLP total of the RDSR (861.38 mGy·cm)", async () => {
    const s = samples.ct;
    const bundle = await studyBundle(s);
    expect(bundle.type).toBe("searchset");
    expect(bundle.total).toBe(1);
    const [obs] = matches(bundle);
    expect(obs!.meta).toEqual({ profile: [RDS] });
    expect(obs!.status).toBe("final");
    expect(obs!.code).toEqual({ coding: [expect.objectContaining({ system: "http://loinc.org", code: "73569-6" })] });
    // dsrdump: CT Dose Length Product Total 861.38 (mGy.cm, UCUM); the DoseReport says the same.
    expect(quantity(obs!, "113813")).toEqual({ value: 861.38, unit: "mGy.cm", system: UCUM, code: "mGy.cm" });
    expect(s.report.totals.ctDlpTotal_mGycm).toBe(861.38);
    expect(component(obs!, DCM, "121058")!.valueCodeableConcept!.coding).toEqual([expect.objectContaining({ system: SCT, code: "77477000" })]);
    // dsrdump: 2 events, Mean CTDIvol 0.22 and 48.92 mGy.
    expect(obs!.valueString).toBe("CT: 2 irradiation events, DLP total 861.4 mGy·cm, max CTDIvol 48.92 mGy");
    // Start of X-Ray Irradiation 20250831130234: British Summer Time.
    expect(obs!.effectiveDateTime).toBe("2025-08-31T13:02:34+01:00");
    expect(obs!.identifier).toEqual([expect.objectContaining({ system: "urn:dicom:uid", value: `urn:oid:${s.sop}` })]);
    const partOf = (obs!.partOf as unknown as Array<{ reference: string; identifier: { system: string; value: string } }>)[0]!;
    expect(partOf.reference).toBe(`ImagingStudy/${s.study}`);
    expect(partOf.identifier).toMatchObject({ system: "urn:dicom:uid", value: `urn:oid:${s.study}` });
    expect(obs!.basedOn).toEqual([
      expect.objectContaining({
        type: "ServiceRequest",
        identifier: expect.objectContaining({ value: "RN747553551", type: { coding: [expect.objectContaining({ system: "http://terminology.hl7.org/CodeSystem/v2-0203", code: "ACSN" })] } }),
      }),
    ]);
  });

  it("references a ModalityDevice (serial, CT type) and the ImagingStudy and Patient inside the Bundle", async () => {
    const bundle = await studyBundle(samples.ct);
    const [device] = included(bundle, "Device");
    expect(device!.meta).toEqual({ profile: [MODALITY_DEVICE] });
    expect(device!.serialNumber).toBe("2GA19X2041");
    expect(device!.type).toEqual({ coding: [expect.objectContaining({ system: DCM, code: "CT" })] });
    expect(device!.deviceName).toEqual(expect.arrayContaining([{ name: "DVHCT1", type: "user-friendly-name" }]));
    const [study] = included(bundle, "ImagingStudy");
    expect(study!.id).toBe(samples.ct.study);
    expect(study!.identifier).toEqual(expect.arrayContaining([{ system: "urn:dicom:uid", value: `urn:oid:${samples.ct.study}` }]));
    expect(included(bundle, "Patient")).toHaveLength(1);
  });

  it("says honestly that the synthetic RDSR names no irradiation authorising person (performer stays a Practitioner reference)", async () => {
    const [obs] = matches(await studyBundle(samples.ct));
    expect(obs!.performer).toEqual([
      {
        extension: [{ url: "http://hl7.org/fhir/StructureDefinition/data-absent-reason", valueCode: "unknown" }],
        type: "Practitioner",
        display: "Irradiation authorising person not recorded in the dose object",
      },
    ]);
  });
});

describe("fluoroscopy (RF) dose summary", () => {
  it("carries DAP, dose (RP), fluoro and acquisition DAP totals and fluoro time in UCUM units, equal to the RDSR", async () => {
    const s = samples.rf;
    const [obs] = matches(await studyBundle(s));
    // dsrdump of RN7/RF/1.dcm: DAP Total 0.0009226 Gy.m2, Dose (RP) Total 0.032323 Gy,
    // Fluoro DAP Total 0.0008473 Gy.m2, Acquisition DAP Total 0.0000753 Gy.m2, Total Fluoro Time 227 s.
    expect(quantity(obs!, "113722")).toEqual({ value: 0.0009226, unit: "Gy.m2", system: UCUM, code: "Gy.m2" });
    expect(quantity(obs!, "113725")).toEqual({ value: 0.032323, unit: "Gy", system: UCUM, code: "Gy" });
    expect(quantity(obs!, "113726")).toEqual({ value: 0.0008473, unit: "Gy.m2", system: UCUM, code: "Gy.m2" });
    expect(quantity(obs!, "113727")).toEqual({ value: 0.0000753, unit: "Gy.m2", system: UCUM, code: "Gy.m2" });
    expect(quantity(obs!, "113730")).toEqual({ value: 227, unit: "s", system: UCUM, code: "s" });
    expect(quantity(obs!, "113722")!.value).toBe(s.report.totals.dapTotal_Gym2);
    expect(quantity(obs!, "113725")!.value).toBe(s.report.totals.rpDoseTotal_Gy);
    expect(component(obs!, DCM, "113813")).toBeUndefined();
    expect(component(obs!, DCM, "121058")!.valueCodeableConcept!.coding).toEqual([expect.objectContaining({ system: DCM, code: "113704" })]);
    // 7 Irradiation Event X-Ray Data containers in dsrdump.
    expect(obs!.valueString).toBe("RF: 7 irradiation events, DAP total 0.0009226 Gy·m², dose (RP) total 0.03232 Gy, fluoro time 227 s");
    expect(obs!.effectiveDateTime).toBe("2025-09-25T12:23:06+01:00");
  });
});

describe("radiopharmaceutical (NM) dose summary", () => {
  it("carries the administered activity (337 MBq) and the SNOMED CT radiopharmaceutical, radionuclide and route", async () => {
    const s = samples.nm;
    const [obs] = matches(await studyBundle(s));
    expect(quantity(obs!, "113507")).toEqual({ value: 337, unit: "MBq", system: UCUM, code: "MBq" });
    expect(s.report.totals.administeredActivity_MBq).toBe(337);
    expect(component(obs!, DCM, "121058")!.valueCodeableConcept!.coding).toEqual([expect.objectContaining({ system: DCM, code: "113502" })]);
    // dsrdump: agent (35321007, SCT, "Fluorodeoxyglucose F^18^"), radionuclide (77004003, SCT), route (47625008, SCT).
    expect(component(obs!, SCT, "349358000")!.valueCodeableConcept!.coding).toEqual([expect.objectContaining({ system: SCT, code: "35321007" })]);
    expect(component(obs!, SCT, "89457008")!.valueCodeableConcept!.coding).toEqual([expect.objectContaining({ system: SCT, code: "77004003" })]);
    expect(component(obs!, SCT, "410675002")!.valueCodeableConcept!.coding).toEqual([expect.objectContaining({ system: SCT, code: "47625008" })]);
    // Radiopharmaceutical Start DateTime 20250913155027.
    expect(obs!.effectiveDateTime).toBe("2025-09-13T15:50:27+01:00");
    expect(obs!.valueString).toMatch(/^NM: administered activity 337 MBq/);
  });
});

describe("searches", () => {
  it("finds a patient's summaries by pseudonym reference and by NHS number, and nobody else's", async () => {
    const [ctObs] = matches(await studyBundle(samples.ct));
    const subject = (ctObs!.subject as { reference: string }).reference;
    expect(subject).toMatch(/^Patient\/[0-9a-f]{64}$/);
    const byRef = await getJson(app, `/fhir/Observation?code=73569-6&patient=${subject}`);
    expect(matches(byRef).map((o) => o.id)).toEqual([samples.ct.sop]);
    expect(isValidNhsNumber(samples.ct.nhsNumber!)).toBe(true);
    const byNhs = await getJson(app, `/fhir/Observation?patient.identifier=${encodeURIComponent(`${NHS}|${samples.ct.nhsNumber}`)}`);
    expect(matches(byNhs).map((o) => o.id)).toEqual([samples.ct.sop]);
  });

  it("compares effective[x] by date with FHIR prefixes", async () => {
    const ids = async (q: string): Promise<string[]> => matches(await getJson(app, `/fhir/Observation?${q}`)).map((o) => o.id!).sort();
    expect(await ids("code=http://loinc.org|73569-6&date=ge2025-09-01")).toEqual([samples.rf.sop, samples.nm.sop].sort());
    expect(await ids("date=2025-08-31")).toEqual([samples.ct.sop]);
    expect(await ids("date=gt2025-08-31&date=lt2025-09-20")).toEqual([samples.nm.sop]);
    expect(await ids("date=lt2025-08-31T13:02:00%2B01:00")).toEqual([]);
    expect(await ids("date=le2025-08-31T13:02:34%2B01:00")).toEqual([samples.ct.sop]);
  });

  it("gives the same date-search answer when candidates are read one at a time, and pages it", async () => {
    const ctx = { db: opened.db, key: TEST_KEY, base: "http://localhost/fhir", reveal: false, trusts: null, dateBatch: 1 };
    const params = { date: ["ge2025-08-01"], _count: ["2"] };
    const b = await searchObservations(ctx, params, new URL("http://localhost/fhir/Observation?date=ge2025-08-01&_count=2"));
    expect(b.total).toBe(3);
    // Newest study date first: RF (2025-09-25), NM (2025-09-13), CT (2025-08-31).
    const firstPage = matches(b).map((o) => o.id);
    const second = await searchObservations(ctx, { ...params, _offset: ["2"] }, new URL("http://localhost/fhir/Observation"));
    expect([...firstPage, ...matches(second).map((o) => o.id)]).toEqual([samples.rf.sop, samples.nm.sop, samples.ct.sop]);
  });

  it("answers another code with an empty searchset, and pages with _count and a next link", async () => {
    const none = await getJson(app, "/fhir/Observation?code=http://loinc.org|1234-5");
    expect(none.total).toBe(0);
    expect(none.entry).toEqual([]);
    const first = await getJson(app, "/fhir/Observation?_count=2");
    expect(first.total).toBe(3);
    expect(matches(first)).toHaveLength(2);
    const next = (first.link as Array<{ relation: string; url: string }>).find((l) => l.relation === "next")!;
    const url = new URL(next.url);
    const second = await getJson(app, `${url.pathname}${url.search}`);
    expect(matches(second)).toHaveLength(1);
    expect(new Set([...matches(first), ...matches(second)].map((o) => o.id)).size).toBe(3);
    const countOnly = await getJson(app, "/fhir/Observation?_count=0");
    expect(countOnly.total).toBe(3);
    expect(countOnly.entry).toEqual([]);
    expect((countOnly.link as Array<{ relation: string }>).map((l) => l.relation)).toEqual(["self"]);
  });

  it("reads each referenced resource on its own, each valid", async () => {
    const bundle = await studyBundle(samples.nm);
    for (const e of entries(bundle)) {
      const path = new URL(e.fullUrl).pathname;
      const got = await getJson(app, path);
      expect(got).toEqual(e.resource);
      expect(validateResource(got)).toEqual([]);
    }
  });
});

describe("patient identifiers", () => {
  it("by default show only the keyed pseudonym: no NHS number or Patient ID anywhere in the JSON", async () => {
    for (const s of Object.values(samples)) {
      const res = await app.request(`/fhir/Observation?part-of=ImagingStudy/${s.study}&_include=*`);
      const text = await res.text();
      expect(s.nhsNumber).toMatch(/^\d{10}$/);
      expect(text).not.toContain(s.nhsNumber!);
      expect(text).not.toContain(s.patientId!);
      const [patient] = included(JSON.parse(text) as FhirResource, "Patient");
      const ids = patient!.identifier as Array<{ system: string; value: string; type: { text: string } }>;
      expect(ids.map((i) => i.system)).toEqual([PSEUDONYM]);
      expect(ids[0]!.value).toBe(patient!.id);
      expect(ids[0]!.type.text).toMatch(/linkage scope consortium/);
    }
  });

  it("with revealIdentifiers (the caller's role may see them) carry the NHS number recovered from the SR bytes", async () => {
    const revealing = new OpenAPIHono();
    registerFhirRoutes(revealing, services, { revealIdentifiers: () => true });
    const bundle = await studyBundle(samples.ct, revealing);
    const [patient] = included(bundle, "Patient");
    expect(patient!.identifier).toEqual(expect.arrayContaining([{ use: "official", system: NHS, value: samples.ct.nhsNumber }]));
    const read = await getJson(revealing, `/fhir/Patient/${patient!.id}`);
    expect(read.identifier).toEqual(patient!.identifier);
    // The app as registered in createApp does not reveal.
    const hidden = await getJson(app, `/fhir/Patient/${patient!.id}`);
    expect(JSON.stringify(hidden)).not.toContain(samples.ct.nhsNumber!);
  });
});

describe("trust scope", () => {
  it("serves a token only its trusts' summaries and answers 404 for another trust's", async () => {
    const bare = new OpenAPIHono();
    registerFhirRoutes(bare, services);
    const rpaOnly: Principal = { tokenId: 1, name: "rpa-clinician", role: "clinician", trusts: ["RPA"], allTrusts: false };
    const [all, ct] = await runAs(rpaOnly, () => Promise.all([bare.request("/fhir/Observation"), bare.request(`/fhir/Observation/${samples.ct.sop}`)]));
    const bundle = (await all.json()) as FhirResource;
    expect(matches(bundle).map((o) => o.id)).toEqual([samples.nm.sop]);
    expect(ct.status).toBe(404);
    expect(((await ct.json()) as FhirResource).resourceType).toBe("OperationOutcome");
  });
});

describe("errors are OperationOutcomes", () => {
  const outcome = async (path: string, status: number, code: string, init?: RequestInit): Promise<void> => {
    const res = await app.request(path, init);
    expect(res.status, path).toBe(status);
    expect(res.headers.get("content-type")).toMatch(/^application\/fhir\+json/);
    const body = (await res.json()) as FhirResource;
    expect(body.resourceType).toBe("OperationOutcome");
    expect(validateResource(body)).toEqual([]);
    expect((body.issue as Array<{ code: string }>)[0]!.code).toBe(code);
  };
  it("404 for an unknown Observation, Patient, ImagingStudy or Device", async () => {
    await outcome("/fhir/Observation/1.2.3.4.5", 404, "not-found");
    await outcome(`/fhir/Patient/${"0".repeat(64)}`, 404, "not-found");
    await outcome("/fhir/ImagingStudy/1.2.3", 404, "not-found");
    await outcome("/fhir/Device/device-999", 404, "not-found");
    await outcome("/fhir/Medication", 404, "not-found");
  });
  it("400 for an unknown search parameter (a typo never widens a search) or a bad date, 405 for writes", async () => {
    await outcome("/fhir/Observation?pateint=Patient/x", 400, "not-supported");
    await outcome("/fhir/Observation?date=2025-13-01", 400, "invalid");
    await outcome("/fhir/Observation?patient.identifier=https://fhir.nhs.uk/Id/nhs-number|9434765918", 400, "invalid");
    await outcome("/fhir/Observation", 405, "not-supported", { method: "POST", body: "{}" });
  });
});

describe.skipIf(!HAVE_CORPUS)("corpus CT RDSR (Toshiba, PixelMed)", () => {
  it("names the irradiation authorising person as a contained Practitioner and reveals a local Patient ID when allowed", async () => {
    const bytes = corpusFile("ct/CT-RDSR-ToshibaPixelMed.dcm");
    const r = await ingestBytes(opened.db, bytes, { source: "import", trustOds: "RWF", name: "toshiba", key: TEST_KEY });
    expect(r.outcome).toBe("stored");
    const study = r.report.studyInstanceUid!;
    const bundle = await getJson(app, `/fhir/Observation?part-of=ImagingStudy/${study}&_include=*`);
    expect(validateBundle(bundle)).toEqual([]);
    const [obs] = matches(bundle);
    // dsrdump: PNAME "Nobody" with Person Role in Procedure (113850, DCM, "Irradiation Authorizing").
    expect(obs!.contained).toEqual([{ resourceType: "Practitioner", id: "irradiation-authorising", name: [{ text: "Nobody" }] }]);
    expect(obs!.performer).toEqual([{ reference: "#irradiation-authorising", type: "Practitioner", display: "Nobody" }]);
    expect(quantity(obs!, "113813")!.value).toBe(349.7);
    expect(obs!.effectiveDateTime).toBe("2016-12-06T16:46:36.400+00:00");
    const [patient] = included(bundle, "Patient");
    expect((patient!.identifier as Array<{ type: { text: string } }>)[0]!.type.text).toMatch(/linkage scope trust/);
    expect(JSON.stringify(bundle)).not.toContain("physics12345");

    const revealing = new OpenAPIHono();
    registerFhirRoutes(revealing, services, { revealIdentifiers: () => true });
    const shown = await getJson(revealing, `/fhir/Patient/${patient!.id}`);
    expect(shown.identifier).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ value: "physics12345", type: { coding: [expect.objectContaining({ code: "MR" })] }, assigner: expect.objectContaining({ identifier: { system: "https://fhir.nhs.uk/Id/ods-organization-code", value: "RWF" } }) }),
      ]),
    );
    expect(JSON.stringify(shown)).not.toContain(NHS);
  });
});

/** The test's own map from DoseReport totals to the IG component codes (domain.md §1.3, §7.2). */
const TOTAL_TO_COMPONENT: Record<string, string> = {
  "totals.ctDlpTotal_mGycm": "113813",
  "totals.dapTotal_Gym2": "113722",
  "totals.rpDoseTotal_Gy": "113725",
  "totals.fluoroDapTotal_Gym2": "113726",
  "totals.acquisitionDapTotal_Gym2": "113727",
  "totals.fluoroTimeTotal_s": "113730",
  "totals.agdTotal_mGy": "111637",
  "totals.administeredActivity_MBq": "113507",
};

describe.skipIf(!HAVE_CORPUS)("every corpus RDSR with expected values", () => {
  it("gives a RadiationDoseSummary that passes the rule table, its totals equal to the OpenREM-derived expectations", async () => {
    const expected = JSON.parse(readFileSync(join(PROJECT_ROOT, "../shared/rdsr-corpus/expected.json"), "utf8")) as Record<
      string,
      { kind: string; checks: Array<{ path: string; expect: unknown; rel_tol?: number }> }
    >;
    let compared = 0;
    let summaries = 0;
    for (const [file, e] of Object.entries(expected)) {
      if (!e.kind.endsWith("-rdsr")) continue;
      const r = await ingestBytes(opened.db, corpusFile(file), { source: "import", trustOds: "RWF", name: file, key: TEST_KEY });
      expect(["stored", "duplicate"], file).toContain(r.outcome);
      const obs = await getJson(app, `/fhir/Observation/${r.report.sopInstanceUid}`);
      expect(validateResource(obs), file).toEqual([]);
      summaries++;
      for (const check of e.checks) {
        const code = TOTAL_TO_COMPONENT[check.path];
        if (code === undefined || typeof check.expect !== "number") continue;
        const q = quantity(obs, code)!;
        expect(Math.abs(q.value - check.expect), `${file} ${check.path}: ${q.value} vs ${check.expect}`).toBeLessThanOrEqual(Math.abs(check.expect) * (check.rel_tol ?? 1e-9) + 1e-12);
        compared++;
      }
    }
    expect(summaries).toBe(Object.values(expected).filter((e) => e.kind.endsWith("-rdsr")).length);
    // expected.json names 14 totals among its 18 RDSRs (the others check events only).
    expect(compared).toBe(14);
  });
});

describe("the rule-table validator can fail", () => {
  it("flags a missing performer, a wrong code, a quantity value and an unclaimed ModalityDevice", async () => {
    const [obs] = matches(await studyBundle(samples.ct));
    const broken: FhirResource = { ...obs!, code: { coding: [{ system: "http://loinc.org", code: "1234-5" }] }, valueQuantity: { value: 1 } };
    delete broken.performer;
    const where = validateResource(broken).map((v) => v.where.split(" ")[1]);
    expect(where).toEqual(expect.arrayContaining(["performer", "code", "value[x]", "performer[irradiationAutorizingPerson]"]));
    const bundle = await studyBundle(samples.ct);
    const [device] = included(bundle, "Device");
    const noAe = { ...device!, identifier: (device!.identifier as Array<{ type: { coding: Array<{ code: string }> } }>).filter((i) => i.type.coding[0]!.code !== "application-entity") };
    expect(validateResource(noAe as unknown as FhirResource).map((v) => v.where)).toEqual([expect.stringContaining("identifier[aeTitle]")]);
  });
});

describe("local times get the UK zone", () => {
  it("GMT in winter, BST in summer, the earlier reading in the repeated autumn hour", () => {
    expect(localToFhir("2026-01-15T10:00:00")!.fhir).toBe("2026-01-15T10:00:00+00:00");
    expect(localToFhir("2026-07-15T10:00")!.fhir).toBe("2026-07-15T10:00:00+01:00");
    expect(localToFhir("2026-10-25T01:30:00")!.fhir).toBe("2026-10-25T01:30:00+01:00");
    expect(localToFhir("2026-03-04")!.fhir).toBe("2026-03-04");
  });

  it("keeps an offset the DICOM DT stated instead of assuming UK time", () => {
    expect(dateTimeOf("20250701103000.5-0500")).toBe("2025-07-01T10:30:00.5-05:00");
    expect(dateTimeOf("20250701103000")).toBe("2025-07-01T10:30:00");
    const t = localToFhir(dateTimeOf("20250701103000-0500"))!;
    expect(t.fhir).toBe("2025-07-01T10:30:00-05:00");
    expect(new Date(t.ms).toISOString()).toBe("2025-07-01T15:30:00.000Z");
  });
});
