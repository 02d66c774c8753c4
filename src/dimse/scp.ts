/**
 * The C-STORE / C-ECHO SCP: a TCP server whose connections are dcmjs-dimse `Scp`s.
 *
 * Association: the called AE title must be ours; the calling AE title must be in the trust
 * table (or is mapped to the default trust, by configuration); each proposed presentation
 * context is accepted only for a dose SR class, a dose-carrying image class or Verification,
 * in a transfer syntax we read (sop-classes.ts). Anything else is rejected.
 *
 * C-STORE: the data set bytes as received (received.ts) go through the shared ingest queue
 * into `ingestBytes` (parse + store in one transaction). The response is sent only when that
 * has finished: success only after the commit, 0xC000 for an unreadable object (which is
 * quarantined), 0xA700 when the database failed (status.ts, domain.md §2.2). Nothing is
 * acknowledged before it is committed, so killing the process loses nothing acknowledged.
 *
 * We run our own `net` server instead of dcmjs-dimse's `Server` to choose the listening
 * address, learn the port when 0 is asked for, and wait for in-flight objects on close.
 */
import net, { type Socket } from "node:net";
import dimse from "dcmjs-dimse";
import type { Logger } from "pino";
import type { SievertDb } from "../db/client.ts";
import { ingestBytes, type IngestMeta, type StoreResult } from "../ingest/index.ts";
import { resolveCaller, type AeTrustTable } from "./ae-table.ts";
import { IngestQueue } from "./queue.ts";
import { attachReceived, receivedOf, ReceivedDataStream, toPart10 } from "./received.ts";
import { encodingOf } from "../dicom/header-walker.ts";
import { choosePresentationContext, isDoseSrClass } from "./sop-classes.ts";
import { errorComment, STATUS, statusForFailure, statusForResult, type StoreStatus } from "./status.ts";

const { Scp, Dataset, constants, responses, log: dimseLog } = dimse;
const { CEchoResponse, CStoreResponse } = responses;
const { PresentationContextResult, RejectResult, RejectSource, RejectReason } = constants;

type Association = Parameters<InstanceType<typeof Scp>["associationRequested"]>[0];
type PresentationContext = ReturnType<Association["getPresentationContext"]>;
type CStoreRequest = Parameters<InstanceType<typeof Scp>["cStoreRequest"]>[0];
type CStoreResponseT = InstanceType<typeof CStoreResponse>;
type CEchoRequest = Parameters<InstanceType<typeof Scp>["cEchoRequest"]>[0];
type CEchoResponseT = InstanceType<typeof CEchoResponse>;
type DimseDataset = InstanceType<typeof Dataset>;

export type IngestFn = (db: SievertDb, bytes: Uint8Array, meta: IngestMeta) => Promise<StoreResult>;

export interface DimseServerOptions {
  db: SievertDb;
  key: Uint8Array;
  /** Our (called) AE title. */
  aeTitle: string;
  table: AeTrustTable;
  /** 0 picks a free port. */
  port: number;
  /** Listening address (default 0.0.0.0). */
  host?: string;
  /** Objects ingested at once across all associations (default 4). */
  concurrency?: number;
  /** Objects waiting for a slot before the SCP stops reading from callers (default 64). */
  queueLimit?: number;
  /** Largest data set accepted, in bytes; a larger one gets 0xA700 and is not kept. */
  maxObjectBytes: number;
  logger: Logger;
  /** Replaces ingestBytes (tests: a failing database). */
  ingest?: IngestFn;
}

export interface DimseServer {
  readonly host: string;
  readonly port: number;
  readonly aeTitle: string;
  readonly queue: IngestQueue;
  /** Stops accepting, lets in-flight objects finish and answer, then closes every association. */
  close(): Promise<void>;
}

interface ServerContext {
  options: DimseServerOptions;
  queue: IngestQueue;
  ingest: IngestFn;
  logger: Logger;
}

interface AssociationStats {
  objects: number;
  bytes: number;
  stored: number;
  duplicate: number;
  notDose: number;
  quarantined: number;
  failed: number;
}

class SievertScp extends Scp {
  private callingAe = "";
  private calledAe = "";
  private trustOds: string | null = null;
  private accepted = false;
  private aborted = false;
  private rejectReason: string | null = null;
  private readonly started = Date.now();
  private readonly stats: AssociationStats = { objects: 0, bytes: 0, stored: 0, duplicate: 0, notDose: 0, quarantined: 0, failed: 0 };
  private inFlight = 0;
  private closing = false;
  private closed = false;
  private readonly closedWaiters: Array<() => void> = [];
  private readonly peerAddress: string;

  constructor(
    private readonly sock: Socket,
    private readonly ctx: ServerContext,
  ) {
    super(sock, { associationTimeout: 60_000, pduTimeout: 300_000, connectTimeout: 60_000 });
    this.peerAddress = `${sock.remoteAddress ?? "?"}:${sock.remotePort ?? "?"}`;
    (this as unknown as { connected: boolean }).connected = true; // as dcmjs-dimse's Server does: arms its timeouts
    this.on("networkError", (err: Error) => {
      ctx.logger.debug({ peer: this.peer(), callingAe: this.callingAe, err: err.message }, "DIMSE network error");
      sock.destroy();
    });
    sock.once("close", () => this.onClose());
  }

  private peer(): string {
    return this.peerAddress;
  }

  override associationRequested(association: Association): void {
    this.callingAe = association.getCallingAeTitle().trim();
    this.calledAe = association.getCalledAeTitle().trim();
    const { aeTitle, table } = this.ctx.options;
    if (this.calledAe !== aeTitle) {
      this.reject(RejectReason.CalledAeNotRecognized, `called AE title "${this.calledAe}" is not ours ("${aeTitle}")`);
      return;
    }
    const caller = resolveCaller(table, this.callingAe);
    if (!caller.accepted) {
      this.reject(RejectReason.CallingAeNotRecognized, caller.reason);
      return;
    }
    this.trustOds = caller.trustOds;
    for (const { context } of association.getPresentationContexts()) decideContext(context);
    this.accepted = true;
    this.sendAssociationAccept();
  }

  private reject(reason: number, why: string): void {
    this.rejectReason = why;
    this.sendAssociationReject(RejectResult.Permanent, RejectSource.ServiceUser, reason);
    // The caller closes on A-ASSOCIATE-RJ; make sure the connection does not linger if it does not.
    setTimeout(() => this.sock.destroy(), 5_000).unref();
  }

  override associationReleaseRequested(): void {
    this.sendAssociationReleaseResponse();
  }

  override cEchoRequest(request: CEchoRequest, callback: (response: CEchoResponseT) => void): void {
    const response = CEchoResponse.fromRequest(request);
    response.setStatus(STATUS.SUCCESS);
    callback(response);
  }

  override createStoreWritableStream(context: PresentationContext): ReceivedDataStream {
    // Images: keep only the header (the bytes before Pixel Data). SRs (no pixel data) whole.
    const sopClass = context.getAbstractSyntaxUid().trim();
    const headerOnly = isDoseSrClass(sopClass) ? null : encodingOf(context.getAcceptedTransferSyntaxUid() ?? "");
    return new ReceivedDataStream(this.ctx.options.maxObjectBytes, headerOnly);
  }

  override createDatasetFromStoreWritableStream(
    writable: ReceivedDataStream,
    context: PresentationContext,
    callback: (dataset: DimseDataset) => void,
  ): void {
    // An empty placeholder: dcmjs-dimse only stores it on the request. The bytes ride along.
    const transferSyntaxUid = context.getAcceptedTransferSyntaxUid() ?? "";
    const dataset = new Dataset({}, transferSyntaxUid);
    attachReceived(dataset, {
      bytes: writable.bytes(),
      transferSyntaxUid,
      receivedBytes: writable.receivedBytes,
      overflow: writable.overflow,
      pixelDataDropped: writable.pixelDataDropped,
    });
    callback(dataset);
  }

  override cStoreRequest(request: CStoreRequest, callback: (response: CStoreResponseT) => void): void {
    const started = Date.now();
    const sopInstanceUid = (request.getAffectedSopInstanceUid() ?? "").replace(/\0/g, "").trim();
    const sopClassUid = (request.getAffectedSopClassUid() ?? "").replace(/\0/g, "").trim();
    const received = receivedOf(request.getDataset());
    this.stats.objects++;
    this.stats.bytes += received?.receivedBytes ?? 0;
    const name = `dimse:${this.callingAe}/${sopInstanceUid}`;

    const respond = (s: StoreStatus, result: StoreResult | null): void => {
      this.inFlight--;
      const fields = {
        callingAe: this.callingAe,
        trust: this.trustOds,
        sopInstanceUid,
        outcome: result?.outcome ?? "failed",
        status: `0x${s.status.toString(16).padStart(4, "0")}`,
        ms: Date.now() - started,
        ...(s.comment ? { reason: result?.reason ?? s.comment } : {}),
      };
      if (s.status === STATUS.SUCCESS) this.ctx.logger.info(fields, "object received");
      else this.ctx.logger.warn(fields, "object refused");
      if (!this.sock.destroyed) {
        const response = CStoreResponse.fromRequest(request);
        response.setStatus(s.status);
        if (s.comment) response.setErrorComment(s.comment);
        callback(response);
      }
      if (this.closing && this.inFlight === 0) this.sock.destroy();
    };

    this.inFlight++;
    if (!received) {
      this.stats.failed++;
      respond({ status: STATUS.CANNOT_UNDERSTAND, comment: "no data set received" }, null);
      return;
    }
    if (received.overflow) {
      this.stats.failed++;
      const limit = this.ctx.options.maxObjectBytes;
      respond({ status: STATUS.OUT_OF_RESOURCES, comment: errorComment(`object larger than ${limit} bytes`) }, null);
      return;
    }

    const bytes = toPart10(
      { sopClassUid, sopInstanceUid, transferSyntaxUid: received.transferSyntaxUid, sourceAeTitle: this.callingAe },
      received.bytes,
    );
    const meta: IngestMeta = { source: "dimse", trustOds: this.trustOds, name, key: this.ctx.options.key };
    // An image received without its pixel data: what we have is the header, kept as such.
    if (received.pixelDataDropped) meta.headerBytes = bytes;
    const { queue } = this.ctx;
    const task = queue.run(() => this.ctx.ingest(this.ctx.options.db, bytes, meta));
    if (queue.saturated && !this.sock.isPaused()) {
      // Back-pressure: stop reading this caller until the queue has room again.
      this.sock.pause();
      queue.whenRoom(() => {
        if (!this.sock.destroyed) this.sock.resume();
      });
    }
    task.then(
      (result) => {
        this.count(result);
        respond(statusForResult(result, name), result);
      },
      (err: unknown) => {
        this.stats.failed++;
        this.ctx.logger.error({ callingAe: this.callingAe, sopInstanceUid, err: err instanceof Error ? err.message : String(err) }, "ingest failed");
        respond(statusForFailure(err), null);
      },
    );
  }

  private count(result: StoreResult): void {
    if (result.outcome === "stored") this.stats.stored++;
    else if (result.outcome === "duplicate") this.stats.duplicate++;
    else if (result.outcome === "not-dose") this.stats.notDose++;
    else this.stats.quarantined++;
  }

  override abort(): void {
    // After A-ABORT the acceptor closes the transport connection (PS3.8 §7.3.3.2); storescu
    // otherwise waits for its ACSE timeout. Objects in flight still finish and stay committed.
    this.ctx.logger.debug({ peer: this.peer(), callingAe: this.callingAe }, "association aborted by the caller");
    this.aborted = true;
    this.sock.destroy();
  }

  /** Graceful close: answer what is in flight, then drop the connection. */
  shutdown(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closing = true;
    this.sock.pause();
    if (this.inFlight === 0) this.sock.destroy();
    return new Promise((resolve) => this.closedWaiters.push(resolve));
  }

  private onClose(): void {
    this.closed = true;
    const base = { callingAe: this.callingAe || undefined, calledAe: this.calledAe || undefined, peer: this.peer(), ms: Date.now() - this.started };
    if (this.accepted) {
      const end = this.aborted ? { aborted: true } : {};
      this.ctx.logger.info({ ...base, trust: this.trustOds, ...this.stats, ...end, inFlight: this.inFlight || undefined }, "association closed");
    } else if (this.rejectReason) {
      this.ctx.logger.info({ ...base, reason: this.rejectReason }, "association rejected");
    } else {
      this.ctx.logger.debug(base, "connection closed before an association");
    }
    for (const w of this.closedWaiters.splice(0)) w();
  }
}

function decideContext(context: PresentationContext): void {
  const decision = choosePresentationContext(context.getAbstractSyntaxUid(), context.getTransferSyntaxUids());
  if (decision.accept) context.setResult(PresentationContextResult.Accept, decision.transferSyntax);
  else if (decision.why === "abstract-syntax") context.setResult(PresentationContextResult.RejectAbstractSyntaxNotSupported);
  else context.setResult(PresentationContextResult.RejectTransferSyntaxesNotSupported);
}

/** Starts the SCP; resolves once it is listening. */
export async function startDimseServer(options: DimseServerOptions): Promise<DimseServer> {
  // dcmjs-dimse logs every PDU through loglevel (at trace by default); we log per association
  // and per object ourselves, and its errors reach us as "networkError" events.
  dimseLog.setLevel("silent");
  const queue = new IngestQueue(options.concurrency ?? 4, options.queueLimit ?? 64);
  const ctx: ServerContext = { options, queue, ingest: options.ingest ?? ingestBytes, logger: options.logger };
  const scps = new Set<SievertScp>();
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    const scp = new SievertScp(socket, ctx);
    scps.add(scp);
    socket.once("close", () => scps.delete(scp));
  });
  const host = options.host ?? "0.0.0.0";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (err) => options.logger.error({ err: err.message }, "DIMSE server error"));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : options.port;

  let closing: Promise<void> | null = null;
  return {
    host,
    port,
    aeTitle: options.aeTitle,
    queue,
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        await Promise.all([...scps].map((s) => s.shutdown()));
        await stopped;
      })();
      return closing;
    },
  };
}
