import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, type SievertApp } from "../../src/api/app.ts";
import type { OpenedDatabase } from "../../src/db/client.ts";
import { parseDicom } from "../../src/dicom/parse.ts";
import { readInstanceHeader, type InstanceHeader } from "../../src/dicomweb/instance-header.ts";
import { corpusAvailable, corpusFile } from "../helpers/corpus.ts";
import { openTestDatabase, resetTestDatabase, TEST_KEY } from "../helpers/db.ts";
import { multipartBody, sha256, splitResponse, STOW_TYPE, val, vals } from "./helpers.ts";

const HAVE_CORPUS = corpusAvailable();

const FILES = {
  ct: "ct/CT-RDSR-Siemens_Flash-QA-DS.dcm",
  rf: "rf/RF-RDSR-GE.dcm",
  dx: "dx/DX-RDSR-Canon_CXDI.dcm",
  mg: "mg/MG-RDSR-Hologic_2D.dcm",
  nm: "nm/NM-RRDSR-Siemens.dcm",
} as const;
type Name = keyof typeof FILES;

interface Known {
  bytes: Uint8Array;
  header: InstanceHeader & { studyInstanceUid: string; seriesInstanceUid: string; sopInstanceUid: string };
  studyDate: string; // YYYYMMDD
  accession: string | null;
  modality: string;
}

let opened: OpenedDatabase;
let app: SievertApp;
const known = {} as Record<Name, Known>;
const IMAGE = "dx/DX-Im-GE_XR220-1.dcm";

beforeAll(async () => {
  opened = await openTestDatabase();
  await resetTestDatabase(opened.db);
  app = createApp({ db: opened.db, key: TEST_KEY, maxObjectBytes: 8 * 1024 * 1024 });
  if (!HAVE_CORPUS) return;
  for (const [name, rel] of Object.entries(FILES) as [Name, string][]) {
    const bytes = corpusFile(rel);
    const report = parseDicom(bytes, rel).report;
    const header = readInstanceHeader(bytes) as Known["header"];
    known[name] = { bytes, header, studyDate: (report.studyDate ?? "").replace(/-/g, ""), accession: report.accessionNumber, modality: report.modality ?? "" };
  }
  const parts = [...Object.values(FILES), IMAGE].map((rel) => ({ bytes: corpusFile(rel) }));
  const res = await app.request("/dicomweb/studies", { method: "POST", body: multipartBody(parts), headers: { "content-type": STOW_TYPE } });
  expect(res.status).toBe(202); // the image part is stored with a warning (its pixels are not kept)
});
afterAll(async () => {
  await opened.close();
});

async function qido(path: string, accept = "application/dicom+json"): Promise<{ status: number; items: Record<string, unknown>[]; res: Response }> {
  const res = await app.request(path, { headers: { accept } });
  const items = res.status === 200 ? ((await res.json()) as Record<string, unknown>[]) : [];
  return { status: res.status, items, res };
}

const STUDY_UID = "0020000D";
const SERIES_UID = "0020000E";
const SOP_UID = "00080018";

describe.skipIf(!HAVE_CORPUS)("QIDO-RS", () => {
  it("lists every study holding a stored RDSR, with the usual attributes and no patient attributes", async () => {
    const { status, items, res } = await qido("/dicomweb/studies");
    expect(status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/dicom+json");
    const uids = items.map((i) => val(i, STUDY_UID));
    expect(uids.sort()).toEqual(Object.values(known).map((k) => k.header.studyInstanceUid).sort());
    const ct = items.find((i) => val(i, STUDY_UID) === known.ct.header.studyInstanceUid) as Record<string, unknown>;
    expect(val(ct, "00080020")).toBe(known.ct.studyDate);
    expect(val(ct, "00080030")).toMatch(/^\d{6}/);
    expect(val(ct, "00080050")).toBe(known.ct.accession);
    expect(vals(ct, "00080061")).toEqual(["CT", "SR"]);
    expect(val(ct, "00201208")).toBe(1);
    expect(val(ct, "00201206")).toBe(1);
    expect(val(ct, "00081190")).toBe(`http://localhost/dicomweb/studies/${known.ct.header.studyInstanceUid}`);
    for (const i of items) for (const tag of ["00100010", "00100020", "00100030"]) expect(i[tag]).toBeUndefined();
  });

  it("matches StudyDate (single date and ranges), AccessionNumber (exact and wildcard), StudyInstanceUID lists and ModalitiesInStudy", async () => {
    const d = known.ct.studyDate;
    const uidsOf = (items: Record<string, unknown>[]) => items.map((i) => val(i, STUDY_UID) as string).sort();
    expect(uidsOf((await qido(`/dicomweb/studies?StudyDate=${d}`)).items)).toContain(known.ct.header.studyInstanceUid);
    for (const i of (await qido(`/dicomweb/studies?StudyDate=${d}`)).items) expect(val(i, "00080020")).toBe(d);
    expect(uidsOf((await qido(`/dicomweb/studies?00080020=${d}-${d}`)).items)).toContain(known.ct.header.studyInstanceUid);
    const all = Object.values(known).map((k) => k.studyDate).sort();
    expect((await qido(`/dicomweb/studies?StudyDate=${all[0]}-${all.at(-1)}`)).items).toHaveLength(5);
    expect((await qido(`/dicomweb/studies?StudyDate=-${all[0]}`)).items.length).toBeGreaterThanOrEqual(1);
    expect((await qido("/dicomweb/studies?StudyDate=19000101-19001231")).items).toHaveLength(0);

    const acc = known.ct.accession as string;
    expect(uidsOf((await qido(`/dicomweb/studies?AccessionNumber=${acc}`)).items)).toEqual([known.ct.header.studyInstanceUid]);
    expect(uidsOf((await qido(`/dicomweb/studies?AccessionNumber=${acc.slice(0, 4)}*`)).items)).toContain(known.ct.header.studyInstanceUid);

    const two = [known.ct.header.studyInstanceUid, known.rf.header.studyInstanceUid];
    expect(uidsOf((await qido(`/dicomweb/studies?StudyInstanceUID=${two.join(",")}`)).items)).toEqual([...two].sort());

    const ctStudies = (await qido("/dicomweb/studies?ModalitiesInStudy=CT")).items;
    expect(uidsOf(ctStudies)).toEqual([known.ct.header.studyInstanceUid]);
    expect(uidsOf((await qido("/dicomweb/studies?ModalitiesInStudy=RF,MG")).items)).toEqual([known.rf.header.studyInstanceUid, known.mg.header.studyInstanceUid].sort());
    expect((await qido("/dicomweb/studies?ModalitiesInStudy=SR")).items).toHaveLength(5);
  });

  it("pages with limit and offset and warns when more results exist", async () => {
    const first = await qido("/dicomweb/studies?limit=2");
    expect(first.items).toHaveLength(2);
    expect(first.res.headers.get("warning")).toMatch(/Additional results can be requested/);
    const rest = await qido("/dicomweb/studies?limit=10&offset=2");
    expect(rest.items).toHaveLength(3);
    expect(rest.res.headers.get("warning")).toBeNull();
    const seen = [...first.items, ...rest.items].map((i) => val(i, STUDY_UID));
    expect(new Set(seen).size).toBe(5);
  });

  it("finds RDSR series by Modality=SR (not by the procedure modality) and instances by SOP Class", async () => {
    const series = (await qido("/dicomweb/series?Modality=SR")).items;
    expect(series).toHaveLength(5);
    const ctSeries = series.find((s) => val(s, SERIES_UID) === known.ct.header.seriesInstanceUid) as Record<string, unknown>;
    expect(val(ctSeries, "00080060")).toBe("SR");
    expect(val(ctSeries, "00200011")).toBe(known.ct.header.seriesNumber);
    expect(val(ctSeries, "00201209")).toBe(1);
    expect(val(ctSeries, "00081190")).toBe(`http://localhost/dicomweb/studies/${known.ct.header.studyInstanceUid}/series/${known.ct.header.seriesInstanceUid}`);
    expect((await qido("/dicomweb/series?Modality=CT")).items).toHaveLength(0);
    expect((await qido(`/dicomweb/studies/${known.rf.header.studyInstanceUid}/series`)).items.map((s) => val(s, SERIES_UID))).toEqual([known.rf.header.seriesInstanceUid]);

    const rrdsr = (await qido("/dicomweb/instances?SOPClassUID=1.2.840.10008.5.1.4.1.1.88.68")).items;
    expect(rrdsr.map((i) => val(i, SOP_UID))).toEqual([known.nm.header.sopInstanceUid]);
    const inSeries = (await qido(`/dicomweb/studies/${known.ct.header.studyInstanceUid}/series/${known.ct.header.seriesInstanceUid}/instances?includefield=Manufacturer`)).items;
    expect(inSeries).toHaveLength(1);
    const inst = inSeries[0] as Record<string, unknown>;
    expect(val(inst, SOP_UID)).toBe(known.ct.header.sopInstanceUid);
    expect(val(inst, "00080016")).toBe("1.2.840.10008.5.1.4.1.1.88.67");
    expect(val(inst, "00080070")).toBe("SIEMENS");
    expect(val(inst, "00081190")).toBe(
      `http://localhost/dicomweb/studies/${known.ct.header.studyInstanceUid}/series/${known.ct.header.seriesInstanceUid}/instances/${known.ct.header.sopInstanceUid}`,
    );
    const byStudy = (await qido(`/dicomweb/studies/${known.dx.header.studyInstanceUid}/instances`)).items;
    // The DX study holds the RDSR only: the DX image object sent with it is not retrievable, so it is not listed.
    expect(byStudy.map((i) => val(i, SOP_UID))).toEqual([known.dx.header.sopInstanceUid]);
  });

  it("refuses patient matching keys (400), bad dates (400), warns about unsupported keys, and answers 406 to a non-JSON Accept", async () => {
    expect((await qido("/dicomweb/studies?PatientID=12345")).status).toBe(400);
    expect((await qido("/dicomweb/studies?00100010=SMITH*")).status).toBe(400);
    expect((await qido("/dicomweb/studies?StudyDate=2013-06-11")).status).toBe(400);
    expect((await qido("/dicomweb/studies?StudyDate=20131301")).status).toBe(400);
    const unsupported = await qido("/dicomweb/studies?ReferringPhysicianName=X&limit=1");
    expect(unsupported.status).toBe(200);
    expect(unsupported.res.headers.get("warning")).toMatch(/not supported and were ignored: ReferringPhysicianName/);
    expect((await qido("/dicomweb/studies", "application/dicom+xml")).status).toBe(406);
  });
});

describe.skipIf(!HAVE_CORPUS)("WADO-RS", () => {
  const dicomAccept = 'multipart/related; type="application/dicom"';

  async function retrieve(path: string, accept = dicomAccept) {
    const res = await app.request(path, { headers: { accept } });
    if (res.status !== 200) return { res, parts: [] };
    const body = new Uint8Array(await res.arrayBuffer());
    return { res, parts: splitResponse(body, res.headers.get("content-type") ?? "") };
  }

  it("returns each stored RDSR byte for byte at study, series and instance level", async () => {
    for (const name of Object.keys(FILES) as Name[]) {
      const k = known[name];
      const study = `/dicomweb/studies/${k.header.studyInstanceUid}`;
      for (const path of [study, `${study}/series/${k.header.seriesInstanceUid}`, `${study}/series/${k.header.seriesInstanceUid}/instances/${k.header.sopInstanceUid}`]) {
        const { res, parts } = await retrieve(path);
        expect(res.status, path).toBe(200);
        expect(res.headers.get("content-type")).toMatch(/^multipart\/related; type="application\/dicom"; boundary=/);
        expect(parts).toHaveLength(1);
        expect(sha256(parts[0]?.bytes ?? new Uint8Array())).toBe(sha256(k.bytes));
        expect(parts[0]?.headers).toContain(`transfer-syntax=${k.header.transferSyntax}`);
      }
    }
  });

  it("negotiates Accept: */* and transfer-syntax=* are served, other types and syntaxes are 406", async () => {
    const path = `/dicomweb/studies/${known.ct.header.studyInstanceUid}`;
    expect((await retrieve(path, "*/*")).res.status).toBe(200);
    expect((await retrieve(path, `${dicomAccept}; transfer-syntax=*`)).res.status).toBe(200);
    expect((await retrieve(path, `${dicomAccept}; transfer-syntax=${known.ct.header.transferSyntax}`)).res.status).toBe(200);
    expect((await retrieve(path, `${dicomAccept}; transfer-syntax=1.2.840.10008.1.2.4.50`)).res.status).toBe(406);
    expect((await retrieve(path, "application/json")).res.status).toBe(406);
    expect((await retrieve(path, 'multipart/related; type="application/octet-stream"')).res.status).toBe(406);
  });

  it("answers 404 for nothing stored and says image objects are not retrievable", async () => {
    expect((await retrieve("/dicomweb/studies/1.2.3.4.5")).res.status).toBe(404);
    const wrongSeries = await retrieve(`/dicomweb/studies/${known.ct.header.studyInstanceUid}/series/1.2.3`);
    expect(wrongSeries.res.status).toBe(404);
    const image = readInstanceHeader(corpusFile(IMAGE)) as InstanceHeader & { studyInstanceUid: string; seriesInstanceUid: string; sopInstanceUid: string };
    const res = await app.request(`/dicomweb/studies/${image.studyInstanceUid}/series/${image.seriesInstanceUid}/instances/${image.sopInstanceUid}`, {
      headers: { accept: dicomAccept },
    });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string; message: string } }).error.message).toMatch(/pixel data/);
  });

  it("serves metadata in DICOM JSON", async () => {
    const k = known.rf;
    const res = await app.request(`/dicomweb/studies/${k.header.studyInstanceUid}/series/${k.header.seriesInstanceUid}/instances/${k.header.sopInstanceUid}/metadata`, {
      headers: { accept: "application/dicom+json" },
    });
    expect(res.status).toBe(200);
    const [ds] = (await res.json()) as Record<string, unknown>[];
    expect(val(ds, SOP_UID)).toBe(k.header.sopInstanceUid);
    expect(val(ds, "00080060")).toBe("SR");
    expect(vals(ds, "0040A730").length).toBeGreaterThan(0); // the SR content tree
    expect(ds?.["00020010"]).toBeUndefined(); // no file meta group
  });
});
