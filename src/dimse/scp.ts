/**
 * The C-STORE / C-ECHO SCP: a TCP server whose connections are dcmjs-dimse `Scp`s.
 *
 * Association: the called AE title must be ours; the calling AE title must be in the trust
 * table (or is mapped to the default trust, by configuration); each proposed presentation
 * context is accepted only for a dose SR class, a dose-carrying image class or Verification,
 * in a transfer syntax we read (sop-classes.ts). Anything else is rejected.
 *
 * C-STORE: the SCP reads the command set itself and the data set fragments go straight into a
 * ReceivedDataStream (received.ts, pdu.ts; dcmjs-dimse's decoding is bypassed for C-STORE, it
 * still negotiates and handles every other message). The bytes go through the shared ingest
 * queue into ingestBytes (parse + store in one transaction), with group commit on a Postgres
 * server (ingest/group-commit.ts: objects of concurrent associations may share a transaction).
 * The response, a PDU written directly, is sent only when that has finished: success only after
 * the commit of the transaction holding the object, 0xC000 for an unreadable object (which is
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
import { GroupCommit, ingestBytes, type GroupCommitStats, type IngestMeta, type StoreResult } from "../ingest/index.ts";
import { resolveCaller, type AeTrustTable } from "./ae-table.ts";
import { IngestQueue } from "../ingest/queue.ts";
import { attachReceived, receivedOf, ReceivedDataStream, toPart10, type ReceivedDataset } from "./received.ts";
import { encodingOf } from "../dicom/header-walker.ts";
import { C_STORE_RQ, cStoreResponsePdu, NO_DATA_SET, readCommandSet, uidOf, usOf } from "./pdu.ts";
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

/** A PDV of a P-DATA-TF PDU, as dcmjs-dimse reads it. */
interface Pdv {
  getPresentationContextId(): number;
  getValue(): Buffer;
  isCommand(): boolean;
  isLastFragment(): boolean;
}
interface PDataTf {
  getPdvs(): Pdv[];
}
/** dcmjs-dimse's own P-DATA-TF handler (Network.prototype._processPDataTf), or undefined if it has none. */
const BASE_PROCESS_PDATA = (Scp.prototype as unknown as { _processPDataTf?: (this: unknown, p: PDataTf) => Promise<void> })._processPDataTf;

/** True when the C-STORE receive path bypasses dcmjs (dcmjs-dimse has the handler it overrides). */
export const C_STORE_FAST_PATH = typeof BASE_PROCESS_PDATA === "function";

/** A C-STORE-RQ whose data set is being received by the fast path. */
interface IncomingStore {
  presentationContextId: number;
  context: PresentationContext;
  messageId: number;
  sopClassUid: string;
  sopInstanceUid: string;
  stream: ReceivedDataStream;
}

/** One received C-STORE request, however it was read. */
interface StoreRequest {
  sopClassUid: string;
  sopInstanceUid: string;
  messageId: number | null;
  received: ReceivedDataset | undefined;
  /** Answers through dcmjs-dimse when the response is not written directly (no context id or message id). */
  answer: ((s: StoreStatus) => void) | null;
}

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
  /**
   * Replaces the ingest (tests: a failing database). Default: ingestBytes with group commit
   * (ingest/group-commit.ts): objects of concurrent associations that are ready at the same
   * moment share one transaction; each is still answered only after its own commit.
   */
  ingest?: IngestFn;
  /** Group commit off: one transaction per object (default on; the benchmark compares both). */
  groupCommit?: boolean;
}

export interface DimseServer {
  readonly host: string;
  readonly port: number;
  readonly aeTitle: string;
  readonly queue: IngestQueue;
  /** How objects were grouped into transactions (null: group commit off or a replaced ingest). */
  readonly groupCommit: GroupCommitStats | null;
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
      presentationContextId: context.getPresentationContextId(),
    });
    callback(dataset);
  }

  override cStoreRequest(request: CStoreRequest, callback: (response: CStoreResponseT) => void): void {
    const messageId = request.getMessageId();
    this.storeObject({
      sopInstanceUid: (request.getAffectedSopInstanceUid() ?? "").replace(/\0/g, "").trim(),
      sopClassUid: (request.getAffectedSopClassUid() ?? "").replace(/\0/g, "").trim(),
      messageId: typeof messageId === "number" ? messageId : null,
      received: receivedOf(request.getDataset()),
      answer: (s) => {
        const response = CStoreResponse.fromRequest(request);
        response.setStatus(s.status);
        if (s.comment) response.setErrorComment(s.comment);
        callback(response);
      },
    });
  }

  /**
   * dcmjs-dimse's P-DATA-TF handler, taken over for C-STORE requests: their command set is read
   * by pdu.ts and their data set fragments go straight into a ReceivedDataStream, so dcmjs never
   * decodes the command or builds request objects for each stored object. Anything else (C-ECHO,
   * other commands, a command arriving while dcmjs-dimse is in the middle of one) is handed to
   * dcmjs-dimse's own handler, PDVs in the order received.
   */
  async _processPDataTf(pdata: PDataTf): Promise<void> {
    const base = BASE_PROCESS_PDATA;
    if (!base) return;
    const passOn: Pdv[] = [];
    for (const pdv of pdata.getPdvs()) {
      const store = this.incoming;
      if (store !== null) {
        if (!pdv.isCommand() && pdv.getPresentationContextId() === store.presentationContextId) {
          store.stream.write(pdv.getValue());
          if (pdv.isLastFragment()) this.finishIncoming(store);
          continue;
        }
        // A command (or another context) before the data set ended: the object is incomplete.
        this.incoming = null;
        store.stream.destroy();
        this.ctx.logger.debug({ peer: this.peer(), callingAe: this.callingAe, sopInstanceUid: store.sopInstanceUid }, "C-STORE data set interrupted");
      }
      if (pdv.isCommand() && (this as unknown as { dimse?: unknown }).dimse === undefined) {
        this.commandFragments.push(pdv);
        if (!pdv.isLastFragment()) continue;
        const fragments = this.commandFragments;
        this.commandFragments = [];
        if (!this.startIncoming(fragments)) passOn.push(...fragments);
        continue;
      }
      passOn.push(pdv);
    }
    if (passOn.length > 0) await base.call(this, { getPdvs: () => passOn });
  }

  private incoming: IncomingStore | null = null;
  private commandFragments: Pdv[] = [];

  /** A complete command: when it is a C-STORE-RQ with a data set on an accepted context, receive it here. */
  private startIncoming(fragments: Pdv[]): boolean {
    const value = fragments.length === 1 ? fragments[0]!.getValue() : Buffer.concat(fragments.map((f) => f.getValue()));
    const command = this.accepted ? readCommandSet(value) : null;
    if (command === null || usOf(command.get(0x0100)) !== C_STORE_RQ || usOf(command.get(0x0800)) === NO_DATA_SET) return false;
    const messageId = usOf(command.get(0x0110));
    const presentationContextId = fragments[0]!.getPresentationContextId();
    const association = (this as unknown as { association?: Association }).association;
    const context = association?.getPresentationContext(presentationContextId);
    if (messageId === null || !context) return false;
    this.incoming = {
      presentationContextId,
      context,
      messageId,
      sopClassUid: uidOf(command.get(0x0002)),
      sopInstanceUid: uidOf(command.get(0x1000)),
      stream: this.createStoreWritableStream(context),
    };
    return true;
  }

  private finishIncoming(store: IncomingStore): void {
    this.incoming = null;
    const { stream, context } = store;
    stream.end();
    this.storeObject({
      sopClassUid: store.sopClassUid,
      sopInstanceUid: store.sopInstanceUid,
      messageId: store.messageId,
      received: {
        bytes: stream.bytes(),
        transferSyntaxUid: context.getAcceptedTransferSyntaxUid() ?? "",
        receivedBytes: stream.receivedBytes,
        overflow: stream.overflow,
        pixelDataDropped: stream.pixelDataDropped,
        presentationContextId: store.presentationContextId,
      },
      answer: null,
    });
  }

  private storeObject(incoming: StoreRequest): void {
    const started = Date.now();
    const { sopInstanceUid, sopClassUid, received } = incoming;
    this.stats.objects++;
    this.stats.bytes += received?.receivedBytes ?? 0;
    const name = `dimse:${this.callingAe}/${sopInstanceUid}`;

    const respond = (s: StoreStatus, result: StoreResult | null): void => {
      this.inFlight--;
      const ms = Date.now() - started;
      // The answer first (the sender is waiting for it), then the log line.
      if (!this.sock.destroyed) {
        const pcId = received?.presentationContextId;
        const { messageId } = incoming;
        if (pcId !== undefined && messageId !== null) {
          // The response PDU written directly (pdu.ts): the same bytes dcmjs-dimse would send,
          // without building and encoding a command data set through dcmjs for every object.
          this.sock.write(
            cStoreResponsePdu({
              presentationContextId: pcId,
              messageIdBeingRespondedTo: messageId,
              sopClassUid,
              sopInstanceUid,
              status: s.status,
              errorComment: s.comment,
            }),
          );
        } else {
          incoming.answer?.(s);
        }
      }
      const fields = {
        callingAe: this.callingAe,
        trust: this.trustOds,
        sopInstanceUid,
        outcome: result?.outcome ?? "failed",
        status: `0x${s.status.toString(16).padStart(4, "0")}`,
        ms,
        ...(s.comment ? { reason: result?.reason ?? s.comment } : {}),
      };
      if (s.status === STATUS.SUCCESS) this.ctx.logger.info(fields, "object received");
      else this.ctx.logger.warn(fields, "object refused");
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
  const group = options.groupCommit === false ? null : new GroupCommit(options.db);
  const ingest: IngestFn = options.ingest ?? ((db, bytes, meta) => (group && db === options.db ? group.ingest(bytes, meta) : ingestBytes(db, bytes, meta)));
  const ctx: ServerContext = { options, queue, ingest, logger: options.logger };
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
    groupCommit: group && !options.ingest && group.enabled ? group.stats : null,
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
