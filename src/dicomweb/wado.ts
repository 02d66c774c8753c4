/**
 * WADO-RS (PS3.18 §10.4): retrieve stored dose SRs as `multipart/related;
 * type="application/dicom"`, byte for byte as received (the object of record is never
 * re-encoded, so there is no transcoding: each part is labelled with the transfer syntax it
 * has, and an Accept that asks for another one gets 406), and their metadata as DICOM JSON.
 *
 * Image objects (CT, DX, MG, NM… headers) give Sievert their dose values but their pixel data
 * is never kept, so they are not retrievable: a request that reaches only such objects gets
 * 404 with a message saying so.
 *
 * The retrieved bytes and metadata contain the patient identifiers of the original object
 * (db/schema.ts `raw_bytes`): serve them only to callers entitled to identifiable data.
 */
import dcmjs from "dcmjs";
import type { SievertDb } from "../db/client.ts";
import { countStudyObjects, findDicomwebObject, getRetrievableBytes, queryDicomwebInstances } from "../db/dicomweb-queries.ts";
import { appendWarnings, MEDIA_DICOM_JSON, sortedDataset, type JsonDataset } from "./dicom-json.ts";
import { loadHeaders, type HeaderCache, type InstanceHeader } from "./instance-header.ts";
import { acceptsDicomJson, acceptsType, parseAccept } from "./media-type.ts";
import { multipartStream, newBoundary } from "./multipart.ts";
import { dicomwebBase, instanceUrl, isUid } from "./stow.ts";
import { MAX_INSTANCES_SCANNED } from "./qido.ts";

export interface WadoContext {
  db: SievertDb;
  headerCache: HeaderCache;
}

export interface WadoTarget {
  study: string;
  series?: string | undefined;
  instance?: string | undefined;
}

interface Selected {
  sopInstanceUid: string;
  header: InstanceHeader;
}

function wadoError(status: number, code: string, message: string): Response {
  const headers = new Headers({ "content-type": "application/json" });
  appendWarnings(headers, [message]);
  return new Response(JSON.stringify({ error: { code, message } }), { status, headers });
}

/** The retrievable instances a WADO-RS path names, in series / instance order; or the 4xx answer. */
async function select(target: WadoTarget, ctx: WadoContext): Promise<Selected[] | Response> {
  for (const [what, uid] of [["Study", target.study], ["Series", target.series], ["SOP", target.instance]] as const) {
    if (uid !== undefined && !isUid(uid)) return wadoError(400, "invalid-request", `"${uid.slice(0, 80)}" is not a ${what} Instance UID`);
  }
  const rows = await queryDicomwebInstances(
    ctx.db,
    { studyInstanceUids: [target.study], ...(target.instance ? { sopInstanceUids: [target.instance] } : {}) },
    MAX_INSTANCES_SCANNED,
  );
  const headers = await loadHeaders(ctx.db, ctx.headerCache, rows.map((r) => r.sopInstanceUid));
  const selected: Selected[] = [];
  for (const r of rows) {
    const header = headers.get(r.sopInstanceUid);
    if (!header) continue;
    if (target.series && header.seriesInstanceUid !== target.series) continue;
    selected.push({ sopInstanceUid: r.sopInstanceUid, header });
  }
  if (selected.length > 0) {
    const n = (x: number | null) => x ?? Number.MAX_SAFE_INTEGER;
    return selected.sort(
      (a, b) =>
        n(a.header.seriesNumber) - n(b.header.seriesNumber) ||
        (a.header.seriesInstanceUid ?? "").localeCompare(b.header.seriesInstanceUid ?? "") ||
        n(a.header.instanceNumber) - n(b.header.instanceNumber) ||
        a.sopInstanceUid.localeCompare(b.sopInstanceUid),
    );
  }
  return notFound(target, ctx);
}

async function notFound(target: WadoTarget, ctx: WadoContext): Promise<Response> {
  if (target.instance) {
    const obj = await findDicomwebObject(ctx.db, target.instance);
    if (obj && obj.studyInstanceUid === target.study && !obj.retrievable) {
      return wadoError(404, "not-retrievable", `instance ${target.instance} is a ${obj.kind} object: Sievert stored its dose values but not its pixel data, so it cannot be retrieved`);
    }
    return wadoError(404, "not-found", `no stored instance ${target.instance} in ${target.series ? `series ${target.series} of ` : ""}study ${target.study}`);
  }
  const counts = await countStudyObjects(ctx.db, target.study);
  if (counts.total > 0 && counts.retrievable === 0) {
    return wadoError(
      404,
      "not-retrievable",
      `study ${target.study} holds ${counts.total} image object(s) whose dose values Sievert stored without their pixel data; none can be retrieved (only dose SRs are kept whole)`,
    );
  }
  return wadoError(404, "not-found", target.series ? `no stored series ${target.series} in study ${target.study}` : `no stored instances in study ${target.study}`);
}

/**
 * Accept negotiation for instance bytes: multipart/related with type application/dicom
 * (the default type when none is given), transfer-syntax absent, `*`, or the one the objects
 * are stored in. Returns null when nothing acceptable is asked for (406).
 */
export function negotiateDicom(accept: string | null, storedSyntaxes: ReadonlySet<string>): { ok: true } | { ok: false; reason: string } {
  const items = parseAccept(accept);
  for (const a of items) {
    if (!(a.type === "*/*" || a.type === "multipart/*" || a.type === "multipart/related")) continue;
    const type = (a.params.get("type") ?? "application/dicom").toLowerCase();
    if (type !== "application/dicom") continue;
    const ts = a.params.get("transfer-syntax");
    if (ts === undefined || ts === "*" || (storedSyntaxes.size === 1 && storedSyntaxes.has(ts))) return { ok: true };
  }
  const stored = [...storedSyntaxes].join(", ");
  return {
    ok: false,
    reason:
      `only multipart/related; type="application/dicom" is served, in the transfer syntax the objects were stored in (${stored}; ` +
      'or ask for transfer-syntax=*); Sievert does not transcode the object of record',
  };
}

/** GET /dicomweb/studies/{study}[/series/{series}[/instances/{instance}]]. */
export async function handleRetrieve(request: Request, target: WadoTarget, ctx: WadoContext): Promise<Response> {
  // A request no answer could satisfy is refused before the database is touched.
  const early = parseAccept(request.headers.get("accept")).some((a) => acceptsType(a, "multipart/related"));
  if (!early) return wadoError(406, "not-acceptable", 'only multipart/related; type="application/dicom" is served');
  const selected = await select(target, ctx);
  if (selected instanceof Response) return selected;
  const syntaxes = new Set(selected.map((s) => s.header.transferSyntax));
  const negotiated = negotiateDicom(request.headers.get("accept"), syntaxes);
  if (!negotiated.ok) return wadoError(406, "not-acceptable", negotiated.reason);

  const base = dicomwebBase(request);
  const boundary = newBoundary();
  const db = ctx.db;
  async function* parts() {
    // One object in memory at a time: each is fetched when the client has read the previous one.
    for (const s of selected as Selected[]) {
      const bytes = (await getRetrievableBytes(db, [s.sopInstanceUid])).get(s.sopInstanceUid);
      if (!bytes) continue; // cannot happen: stored objects are never deleted by Sievert
      yield {
        contentType: `application/dicom; transfer-syntax=${s.header.transferSyntax}`,
        bytes,
        location: instanceUrl(base, target.study, s.header.seriesInstanceUid, s.sopInstanceUid),
      };
    }
  }
  return new Response(multipartStream(boundary, parts()), {
    status: 200,
    headers: { "content-type": `multipart/related; type="application/dicom"; boundary=${boundary}` },
  });
}

/** GET …/metadata: each instance's dataset (without group 0002) in DICOM JSON; bulk values inline (base64). */
export async function handleMetadata(request: Request, target: WadoTarget, ctx: WadoContext): Promise<Response> {
  if (!acceptsDicomJson(request.headers.get("accept"))) {
    return wadoError(406, "not-acceptable", "metadata is available as application/dicom+json only");
  }
  const selected = await select(target, ctx);
  if (selected instanceof Response) return selected;
  const out: JsonDataset[] = [];
  for (const s of selected) {
    const bytes = (await getRetrievableBytes(ctx.db, [s.sopInstanceUid])).get(s.sopInstanceUid);
    if (!bytes) continue;
    out.push(toDicomJson(bytes));
  }
  return new Response(JSON.stringify(out), { status: 200, headers: { "content-type": MEDIA_DICOM_JSON } });
}

let dcmjsQuiet = false;

/** Part 10 bytes → DICOM JSON (PS3.18 Annex F) with dcmjs; binary values as InlineBinary. */
export function toDicomJson(bytes: Uint8Array): JsonDataset {
  if (!dcmjsQuiet) {
    const log = (dcmjs as unknown as { log?: { setLevel(l: string): void; getLogger(n: string): { setLevel(l: string): void } } }).log;
    log?.setLevel("silent");
    log?.getLogger("validation.dcmjs").setLevel("silent");
    dcmjsQuiet = true;
  }
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const dict = dcmjs.data.DicomMessage.readFile(ab, { ignoreErrors: true });
  return convert(dict.dict as Record<string, { vr: string; Value?: unknown[]; InlineBinary?: string }>);
}

const BINARY_VRS = new Set(["OB", "OD", "OF", "OL", "OV", "OW", "UN"]);

function convert(ds: Record<string, { vr: string; Value?: unknown[] }>): JsonDataset {
  const out: Record<string, { vr: string; Value?: unknown[]; InlineBinary?: string }> = {};
  for (const [tag, el] of Object.entries(ds)) {
    if (tag.startsWith("0002")) continue;
    const vr = el.vr;
    if (BINARY_VRS.has(vr)) {
      const chunks = (el.Value ?? []).map((v) => (v instanceof ArrayBuffer ? new Uint8Array(v) : ArrayBuffer.isView(v) ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : new Uint8Array(0)));
      const joined = Buffer.concat(chunks);
      out[tag] = joined.length ? { vr, InlineBinary: joined.toString("base64") } : { vr };
    } else if (vr === "SQ") {
      const items = (el.Value ?? []).map((item) => convert(item as Record<string, { vr: string; Value?: unknown[] }>));
      out[tag] = items.length ? { vr, Value: items } : { vr };
    } else {
      const values = (el.Value ?? []).filter((v) => v !== undefined && v !== null && v !== "");
      out[tag] = values.length ? { vr, Value: values } : { vr };
    }
  }
  return sortedDataset(out as JsonDataset);
}
