/**
 * A temporary C-STORE SCP for backfill by C-MOVE: it listens only while `sievert backfill
 * --move-dest AE` runs, answers to that AE title, accepts the dose SR classes (and the
 * dose-carrying image classes) and hands each object to the run, answering only once the
 * object is committed, so the PACS's sub-operations are paced by our rate limit. The PACS
 * must know the AE title with this host and port as a move destination. (The service's own
 * SCP, src/dimse, is the permanent receiver; this one keeps backfill self-contained.)
 */
import net, { type Socket } from "node:net";
import dimse from "dcmjs-dimse";
import { choosePresentationContext, toPart10 } from "../dimse/index.ts";
import { attachRaw, clean, rawDatasetOf, RawStoreStream } from "./dimse-source.ts";

const { Scp, Dataset, constants, responses, log: dimseLog } = dimse;
const { CEchoResponse, CStoreResponse } = responses;
const { PresentationContextResult, RejectResult, RejectSource, RejectReason } = constants;

type Association = Parameters<InstanceType<typeof Scp>["associationRequested"]>[0];
type PresentationContext = ReturnType<Association["getPresentationContext"]>;
type CStoreRequest = Parameters<InstanceType<typeof Scp>["cStoreRequest"]>[0];
type CEchoRequest = Parameters<InstanceType<typeof Scp>["cEchoRequest"]>[0];
type DimseDataset = InstanceType<typeof Dataset>;

export type MoveHandler = (bytes: Uint8Array, name: string) => Promise<{ status: number; comment: string | null }>;

export interface MoveReceiver {
  readonly aeTitle: string;
  readonly port: number;
  /** Objects received since start. */
  readonly received: number;
  setHandler(handler: MoveHandler): void;
  close(): Promise<void>;
}

export async function startMoveReceiver(options: { aeTitle: string; port: number; host?: string }): Promise<MoveReceiver> {
  dimseLog.setLevel("silent");
  let handler: MoveHandler | null = null;
  let received = 0;
  const sockets = new Set<Socket>();

  class BackfillStoreScp extends Scp {
    private callingAe = "";
    constructor(private readonly sock: Socket) {
      super(sock, { associationTimeout: 60_000, pduTimeout: 300_000, connectTimeout: 60_000 });
      (this as unknown as { connected: boolean }).connected = true; // as dcmjs-dimse's Server does: arms its timeouts
      this.on("networkError", () => sock.destroy());
    }

    override associationRequested(association: Association): void {
      this.callingAe = association.getCallingAeTitle().trim();
      if (association.getCalledAeTitle().trim() !== options.aeTitle) {
        this.sendAssociationReject(RejectResult.Permanent, RejectSource.ServiceUser, RejectReason.CalledAeNotRecognized);
        setTimeout(() => this.sock.destroy(), 5_000).unref();
        return;
      }
      for (const { context } of association.getPresentationContexts()) decide(context);
      this.sendAssociationAccept();
    }

    override associationReleaseRequested(): void {
      this.sendAssociationReleaseResponse();
    }

    override cEchoRequest(request: CEchoRequest, callback: (response: InstanceType<typeof CEchoResponse>) => void): void {
      const response = CEchoResponse.fromRequest(request);
      response.setStatus(0);
      callback(response);
    }

    override createStoreWritableStream(): RawStoreStream {
      return new RawStoreStream();
    }

    override createDatasetFromStoreWritableStream(writable: RawStoreStream, context: PresentationContext, callback: (dataset: DimseDataset) => void): void {
      // Same placeholder as the C-GET path: the bytes ride along, dcmjs decodes nothing.
      const transferSyntaxUid = context.getAcceptedTransferSyntaxUid() ?? "";
      const dataset = new Dataset({}, transferSyntaxUid);
      attachRaw(dataset, writable.bytes(), transferSyntaxUid);
      callback(dataset);
    }

    override cStoreRequest(request: CStoreRequest, callback: (response: InstanceType<typeof CStoreResponse>) => void): void {
      const respond = (status: number, comment: string | null): void => {
        if (this.sock.destroyed) return;
        const response = CStoreResponse.fromRequest(request);
        response.setStatus(status);
        if (comment) response.setErrorComment(comment);
        callback(response);
      };
      const raw = rawDatasetOf(request.getDataset());
      if (!raw || handler === null) {
        respond(0xa700, handler === null ? "no backfill running" : "no data set received");
        return;
      }
      received += 1;
      const sopClassUid = clean(request.getAffectedSopClassUid());
      const sopInstanceUid = clean(request.getAffectedSopInstanceUid());
      const bytes = toPart10({ sopClassUid, sopInstanceUid, transferSyntaxUid: raw.transferSyntaxUid, sourceAeTitle: this.callingAe }, raw.bytes);
      handler(bytes, `instance ${sopInstanceUid}`).then(
        (s) => respond(s.status, s.comment),
        (err: unknown) => respond(0xa700, `storage unavailable: ${err instanceof Error ? err.message : String(err)}`.slice(0, 64)),
      );
    }
  }

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.setNoDelay(true);
    new BackfillStoreScp(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "0.0.0.0", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;

  return {
    aeTitle: options.aeTitle,
    port,
    get received() {
      return received;
    },
    setHandler(h) {
      handler = h;
    },
    close() {
      handler = null;
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function decide(context: PresentationContext): void {
  const decision = choosePresentationContext(context.getAbstractSyntaxUid(), context.getTransferSyntaxUids());
  if (decision.accept) context.setResult(PresentationContextResult.Accept, decision.transferSyntax);
  else if (decision.why === "abstract-syntax") context.setResult(PresentationContextResult.RejectAbstractSyntaxNotSupported);
  else context.setResult(PresentationContextResult.RejectTransferSyntaxesNotSupported);
}
