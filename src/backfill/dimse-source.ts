/**
 * Backfill from a DIMSE PACS (IHE REM "Query/Retrieve Dose Information"): Study Root C-FIND at
 * study level over a date window, then at series level for the wanted modalities (SR, and
 * with --images the image modalities whose headers carry dose), then C-GET of each series
 * (preferred: the objects come back on the same association, so nothing has to be configured
 * on the PACS) or C-MOVE to our own temporary storage SCP (move-receiver.ts) when the PACS
 * does not offer C-GET.
 *
 * Only the attributes the run needs are asked for: no patient identifiers are queried.
 *
 * dcmjs-dimse specifics (0.3.3): its Client decodes every received C-STORE data set with dcmjs
 * and proposes a fixed list of storage classes for C-GET (it lacks Radiopharmaceutical,
 * Enhanced X-Ray and Patient Radiation Dose SR and Comprehensive 3D SR). We patch the Client's
 * network object right after `send()` (before it connects): its store-stream hooks keep the
 * raw data set bytes (as src/dimse does for its SCP), and the association request gets one
 * presentation context with the SCP role for each class we want, in the transfer syntaxes
 * ingest reads.
 */
import type { Socket } from "node:net";
import { Writable } from "node:stream";
import dimse from "dcmjs-dimse";
import { acceptableTransferSyntaxes, DOSE_IMAGE_CLASSES, DOSE_SR_CLASSES, toPart10 } from "../dimse/index.ts";
import { isoOfDicom } from "./dates.ts";
import type { MoveReceiver } from "./move-receiver.ts";
import { BackfillError, type BackfillSource, type RetrieveOutcome, type SeriesRef, type StudyRef } from "./types.ts";

const { Client, Dataset, requests, responses, log: dimseLog } = dimse;
const { CFindRequest, CGetRequest, CMoveRequest } = requests;
const { CStoreResponse } = responses;

type DimseRequest = InstanceType<typeof requests.Request>;
type DimseDataset = InstanceType<typeof Dataset>;
type Association = InstanceType<typeof dimse.association.Association>;
type CStoreRequestT = InstanceType<typeof requests.CStoreRequest>;
type CStoreResponseT = InstanceType<typeof CStoreResponse>;

export interface DimsePeer {
  host: string;
  port: number;
  /** The PACS's AE title (called). */
  calledAe: string;
  /** Ours (calling). */
  callingAe: string;
}

export interface DimseTimeouts {
  /** TCP connect (ms). */
  connectMs: number;
  /** Waiting for a PDU from the peer (ms); a C-FIND over a busy archive can be slow. */
  pduMs: number;
}

export const DEFAULT_TIMEOUTS: DimseTimeouts = { connectMs: 10_000, pduMs: 300_000 };

/** A C-STORE data set's bytes as received (kept whole; backfill objects are dose objects). */
class RawStoreStream extends Writable {
  private readonly chunks: Buffer[] = [];
  constructor() {
    // write() must always return true: dcmjs-dimse awaits "drain" otherwise while PDUs keep coming.
    super({ highWaterMark: 2 ** 30, decodeStrings: true });
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.chunks.push(chunk);
    callback();
  }
  bytes(): Buffer {
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
  }
}

const rawData = new WeakMap<object, { bytes: Buffer; transferSyntaxUid: string }>();

/** The hooks of dcmjs-dimse's (untyped, internal) network object that we replace. */
interface NetworkInternals {
  socket?: Socket;
  createStoreWritableStream(context: unknown, request: unknown): Writable;
  createDatasetFromStoreWritableStream(writable: Writable, context: { getAcceptedTransferSyntaxUid(): string | undefined }, callback: (dataset: DimseDataset) => void): void;
  sendAssociationRequest(association: Association): void;
}

function keepRawBytes(network: NetworkInternals): void {
  network.createStoreWritableStream = () => new RawStoreStream();
  network.createDatasetFromStoreWritableStream = (writable, context, callback) => {
    const transferSyntaxUid = context.getAcceptedTransferSyntaxUid() ?? "";
    const dataset = new Dataset({}, transferSyntaxUid);
    attachRaw(dataset, (writable as RawStoreStream).bytes(), transferSyntaxUid);
    callback(dataset);
  };
}

export function attachRaw(dataset: object, bytes: Buffer, transferSyntaxUid: string): void {
  rawData.set(dataset, { bytes, transferSyntaxUid });
}

export function rawDatasetOf(dataset: object | undefined): { bytes: Buffer; transferSyntaxUid: string } | undefined {
  return dataset === undefined ? undefined : rawData.get(dataset);
}

export { RawStoreStream };

/** DICOM UIDs and codes as returned by some archives carry a trailing space or NUL. */
export function clean(value: unknown): string {
  const v = Array.isArray(value) ? value[0] : value;
  return typeof v === "string" ? v.replace(/\0/g, "").trim() : typeof v === "number" ? String(v) : "";
}

/** Status meanings for C-FIND / C-GET / C-MOVE responses (PS3.4 C.4, PS3.7 Annex C). */
export function statusText(status: number): string {
  if (status === 0x0000) return "Success";
  if (status === 0xff00 || status === 0xff01) return "Pending";
  if (status === 0xfe00) return "Cancel";
  if (status === 0xa700) return "Refused: out of resources";
  if (status === 0xa701) return "Refused: out of resources, unable to calculate number of matches";
  if (status === 0xa702) return "Refused: out of resources, unable to perform sub-operations";
  if (status === 0xa801) return "Refused: move destination unknown";
  if (status === 0xa900) return "Error: identifier does not match SOP class";
  if (status === 0x0122) return "Refused: SOP class not supported";
  if (status === 0x0124) return "Refused: not authorized";
  if (status === 0xb000) return "Warning: sub-operations complete, one or more failures";
  if (status >= 0xc000 && status <= 0xcfff) return "Error: unable to process";
  return "Failure";
}

const hex = (status: number): string => `0x${status.toString(16).padStart(4, "0").toUpperCase()}`;
const isPending = (s: number): boolean => s === 0xff00 || s === 0xff01;

const REJECT_REASONS: Record<number, Record<number, string>> = {
  1: { 1: "no reason given", 2: "application context name not supported", 3: "calling AE title not recognized", 7: "called AE title not recognized" },
  2: { 1: "no reason given", 2: "protocol version not supported" },
  3: { 1: "temporary congestion", 2: "local limit exceeded" },
};

interface AssociationOptions {
  /** What the association is for, e.g. "C-FIND for studies 2018-01-01..2018-01-07". */
  what: string;
  timeouts: DimseTimeouts;
  /** Storage classes we accept objects of on this association (C-GET). */
  storageClasses?: readonly string[];
  onStore?: (bytes: Uint8Array) => Promise<{ status: number; comment: string | null }>;
  signal?: AbortSignal;
}

/** One association carrying `reqs` in order; resolves when it is released (or aborted through `signal`). */
function runAssociation(peer: DimsePeer, reqs: DimseRequest[], o: AssociationOptions): Promise<{ aborted: boolean }> {
  dimseLog.setLevel("silent");
  const label = `${peer.calledAe}@${peer.host}:${peer.port}`;
  return new Promise((resolve, reject) => {
    const client = new Client();
    for (const r of reqs) client.addRequest(r);
    let failure: Error | null = null;
    let aborted = false;
    const held: { network?: NetworkInternals } = {};

    const onAbort = (): void => {
      if (aborted) return;
      aborted = true;
      try {
        client.abort();
      } catch {
        // not associated yet or already closed
      }
      // The peer closes the connection after A-ABORT; do not wait for it if it does not.
      setTimeout(() => held.network?.socket?.destroy(), 2_000).unref();
    };

    client.on("networkError", (e: Error & { code?: string }) => {
      if (aborted) return;
      const detail = (e.message ?? String(e)).replace(/^\s*->\s*/, "").replace(/^Connection error:\s*/, "");
      failure ??= /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|EAI_AGAIN|connect/i.test(detail)
        ? new BackfillError(`cannot reach the PACS ${label}: ${detail} (${o.what})`)
        : new BackfillError(`network error with the PACS ${label} during ${o.what}: ${detail}`);
    });
    client.on("associationRejected", (r: { result: number; source: number; reason: number }) => {
      const why = REJECT_REASONS[r.source]?.[r.reason] ?? `reason ${r.reason}`;
      const kind = r.result === 2 ? "transiently" : "permanently";
      failure ??= new BackfillError(
        `the PACS ${label} ${kind} refused the association from ${peer.callingAe} (${why})` +
          (r.reason === 3 && r.source === 1 ? `: add ${peer.callingAe} to the PACS's known AE titles` : "") +
          (r.reason === 7 && r.source === 1 ? `: check --aec` : ""),
      );
    });
    if (o.onStore) {
      const onStore = o.onStore;
      client.on("cStoreRequest", (request: CStoreRequestT, callback: (response: CStoreResponseT) => void) => {
        const respond = (status: number, comment: string | null): void => {
          if (aborted) return;
          try {
            const response = CStoreResponse.fromRequest(request);
            response.setStatus(status);
            if (comment) response.setErrorComment(comment);
            callback(response);
          } catch {
            // the association went away meanwhile; the object is committed anyway
          }
        };
        const raw = rawDatasetOf(request.getDataset());
        if (!raw) {
          respond(0xc000, "no data set received");
          return;
        }
        const sopClassUid = clean(request.getAffectedSopClassUid());
        const sopInstanceUid = clean(request.getAffectedSopInstanceUid());
        const bytes = toPart10({ sopClassUid, sopInstanceUid, transferSyntaxUid: raw.transferSyntaxUid, sourceAeTitle: peer.calledAe }, raw.bytes);
        onStore(bytes).then(
          (s) => respond(s.status, s.comment),
          (err: unknown) => respond(0xa700, `storage unavailable: ${err instanceof Error ? err.message : String(err)}`.slice(0, 64)),
        );
      });
    }
    client.on("closed", () => {
      o.signal?.removeEventListener("abort", onAbort);
      if (failure && !aborted) reject(failure);
      else resolve({ aborted });
    });

    client.send(peer.host, peer.port, peer.callingAe, peer.calledAe, {
      connectTimeout: o.timeouts.connectMs,
      associationTimeout: o.timeouts.connectMs * 3,
      pduTimeout: o.timeouts.pduMs,
      associationLingerTimeout: 0,
    });
    const network = (client as unknown as { network?: NetworkInternals }).network;
    held.network = network;
    network?.socket?.setNoDelay(true); // delayed ACKs otherwise stall small PDUs
    if (network) {
      keepRawBytes(network);
      const classes = o.storageClasses ?? [];
      if (classes.length > 0) {
        const n = network;
        const original = n.sendAssociationRequest.bind(n);
        n.sendAssociationRequest = (association: Association) => {
          for (const uid of classes) {
            const id = association.addPresentationContext(uid);
            association.getPresentationContext(id).setProviderRole(true);
            for (const ts of acceptableTransferSyntaxes(uid)) association.addTransferSyntaxToPresentationContext(id, ts);
          }
          original(association);
        };
      }
    }
    if (o.signal?.aborted) onAbort();
    else o.signal?.addEventListener("abort", onAbort, { once: true });
  });
}

interface FinalResponse {
  status: number;
  comment: string;
  completed: number;
  failed: number;
  warnings: number;
}

type AnyResponse = {
  getStatus(): number;
  getErrorComment?(): string | undefined;
  getDataset(): DimseDataset | undefined;
  getCompleted?(): number;
  getFailures?(): number;
  getWarnings?(): number;
};

function collect(request: DimseRequest, onPending?: (dataset: DimseDataset) => void): { final: () => FinalResponse | null } {
  let final: FinalResponse | null = null;
  request.on("response", (response: AnyResponse) => {
    const status = response.getStatus();
    if (isPending(status)) {
      const ds = response.getDataset();
      if (ds && onPending) onPending(ds);
      return;
    }
    final = {
      status,
      comment: clean(response.getErrorComment?.() ?? ""),
      completed: response.getCompleted?.() ?? 0,
      failed: response.getFailures?.() ?? 0,
      warnings: response.getWarnings?.() ?? 0,
    };
  });
  return { final: () => final };
}

export interface DimseSourceOptions {
  peer: DimsePeer;
  /** Also retrieve image series of the dose-carrying modalities. */
  images: boolean;
  /** C-MOVE to this receiver instead of C-GET. */
  move?: MoveReceiver;
  timeouts?: DimseTimeouts;
}

export function createDimseSource(options: DimseSourceOptions): BackfillSource {
  const { peer, images, move } = options;
  const timeouts = options.timeouts ?? DEFAULT_TIMEOUTS;
  const label = `${peer.calledAe}@${peer.host}:${peer.port}`;
  const wanted = new Set(["SR", ...(images ? ["CT", "DX", "CR", "MG", "RF", "XA", "NM", "PT", "PX", "IO"] : [])]);
  const storageClasses = images ? [...DOSE_SR_CLASSES, ...DOSE_IMAGE_CLASSES] : [...DOSE_SR_CLASSES];

  const findFailure = (what: string, f: FinalResponse | null): BackfillError | null => {
    if (f === null) return new BackfillError(`${what} at ${label} got no final response (does the PACS offer Study Root Query/Retrieve FIND to ${peer.callingAe}?)`);
    if (f.status === 0x0000) return null;
    return new BackfillError(`${what} at ${label} failed: status ${hex(f.status)} (${statusText(f.status)})${f.comment ? `: ${f.comment}` : ""}`);
  };

  return {
    label,
    job: `dimse:${label}:${images ? "sr+images" : "sr"}`,

    async findStudies(from, to) {
      const what = `C-FIND for studies ${isoOfDicom(from)}..${isoOfDicom(to)}`;
      const request = new CFindRequest();
      request.setDataset(new Dataset({ QueryRetrieveLevel: "STUDY", StudyDate: from === to ? from : `${from}-${to}`, StudyInstanceUID: "" }));
      const found = new Map<string, StudyRef>();
      const c = collect(request, (ds) => {
        const uid = clean(ds.getElement("StudyInstanceUID"));
        if (uid && !found.has(uid)) found.set(uid, { studyInstanceUid: uid, studyDate: clean(ds.getElement("StudyDate")) || null });
      });
      await runAssociation(peer, [request], { what, timeouts });
      const failure = findFailure(what, c.final());
      if (failure) throw failure;
      return [...found.values()];
    },

    async findSeries(studies) {
      if (studies.length === 0) return [];
      const what = `C-FIND for the series of ${studies.length} ${studies.length === 1 ? "study" : "studies"}`;
      // One association for the whole window: one C-FIND per study, in order.
      const perStudy = studies.map((study) => {
        const request = new CFindRequest();
        request.setDataset(
          new Dataset({
            QueryRetrieveLevel: "SERIES",
            StudyInstanceUID: study.studyInstanceUid,
            SeriesInstanceUID: "",
            // SR only: let the PACS filter; with images, ask for every series and filter here.
            Modality: images ? "" : "SR",
            NumberOfSeriesRelatedInstances: "",
          }),
        );
        const series: SeriesRef[] = [];
        const c = collect(request, (ds) => {
          const uid = clean(ds.getElement("SeriesInstanceUID"));
          const modality = clean(ds.getElement("Modality")).toUpperCase() || null;
          const n = Number(clean(ds.getElement("NumberOfSeriesRelatedInstances")));
          if (uid && modality !== null && wanted.has(modality) && !series.some((s) => s.seriesInstanceUid === uid)) {
            series.push({ studyInstanceUid: study.studyInstanceUid, seriesInstanceUid: uid, modality, instances: Number.isFinite(n) && n > 0 ? n : null });
          }
        });
        return { request, series, c };
      });
      await runAssociation(
        peer,
        perStudy.map((p) => p.request),
        { what, timeouts },
      );
      for (const [i, p] of perStudy.entries()) {
        const failure = findFailure(`C-FIND for the series of study ${studies[i]!.studyInstanceUid}`, p.c.final());
        if (failure) throw failure;
      }
      return perStudy.flatMap((p) => p.series);
    },

    async retrieveSeries(series, hooks) {
      const verb = move ? "C-MOVE" : "C-GET";
      const what = `${verb} of series ${series.seriesInstanceUid}`;
      let received = 0;
      const deliver = async (bytes: Uint8Array): Promise<{ status: number; comment: string | null }> => {
        await hooks.pace();
        received += 1;
        return hooks.deliver({ bytes, name: `${label} series ${series.seriesInstanceUid} object ${received}` });
      };
      let c: ReturnType<typeof collect>;
      let aborted: boolean;
      if (move) {
        // The objects arrive on the receiver's own associations; they are counted by the final response.
        const req = CMoveRequest.createSeriesMoveRequest(move.aeTitle, series.studyInstanceUid, series.seriesInstanceUid);
        c = collect(req);
        move.setHandler(async (bytes, name) => {
          await hooks.pace();
          return hooks.deliver({ bytes, name: `${label} series ${series.seriesInstanceUid} ${name}` });
        });
        ({ aborted } = await runAssociation(peer, [req], { what, timeouts, signal: hooks.signal }));
        const f = c.final();
        received = f ? f.completed + f.warnings : move.received;
      } else {
        const req = CGetRequest.createSeriesGetRequest(series.studyInstanceUid, series.seriesInstanceUid);
        req.setAddStorageSopClassesToAssociation(false);
        c = collect(req);
        ({ aborted } = await runAssociation(peer, [req], { what, timeouts, storageClasses, onStore: deliver, signal: hooks.signal }));
      }
      const outcome: RetrieveOutcome = { received, failed: 0, failures: [], notSent: 0, warnings: [], interrupted: aborted };
      if (aborted) return outcome;
      const f = c.final();
      if (f === null) {
        outcome.failed += 1;
        outcome.failures.push(`${what} at ${label} ended without a final response`);
      } else if (f.status === 0xa801) {
        throw new BackfillError(
          `${what} at ${label} failed: status 0xA801 (${statusText(f.status)}): the PACS does not know the AE title ${move?.aeTitle ?? "?"}; ` +
            `configure it on the PACS as ${move?.aeTitle ?? "?"} at this host, port ${move?.port ?? "?"}`,
        );
      } else if (f.status === 0xb000 || (f.status === 0x0000 && f.failed > 0)) {
        outcome.notSent += Math.max(1, f.failed);
        outcome.warnings.push(
          `${what} at ${label}: ${f.failed || "some"} object(s) not sent by the PACS (status ${hex(f.status)}: ${statusText(f.status)}; ` +
            `an object of a class not asked for${images ? "" : " (only dose SR classes are, without --images)"}, or an error at the PACS)`,
        );
      } else if (f.status !== 0x0000) {
        outcome.failed += Math.max(1, f.failed);
        outcome.failures.push(
          `${what} at ${label}: status ${hex(f.status)} (${statusText(f.status)})${f.comment ? `: ${f.comment}` : ""}` +
            (f.failed ? `, ${f.failed} failed sub-operation(s)` : ""),
        );
      }
      return outcome;
    },

    async close() {
      // Associations are per request; the C-MOVE receiver belongs to the caller.
    },
  };
}
