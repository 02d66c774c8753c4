/** Synthetic fluoroscopy RDSRs (real Part 10 bytes from src/synth) and a loopback webhook receiver. */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { REGION, V, buildProjectionRdsr, hashUid, toPart10, type ProjectionEventParams } from "../../src/synth/index.ts";

export const FLUORO_NHS_NUMBER = "9434765919";

export interface FluoroStudy {
  tag: string;
  /** Reference-point dose of each event (Gy). */
  rpPerEvent: number[];
  /** DAP of each event (Gy·m²). */
  dapPerEvent?: number;
  /** Fluoroscopy duration of each event (s). */
  secondsPerEvent?: number;
  nhsNumber?: string | null;
  patientId?: string;
  /** YYYYMMDD */
  date?: string;
  modality?: "XA" | "RF";
}

/** An interventional (XA) X-Ray Radiation Dose SR whose accumulated totals are the sums of its fluoroscopy events. */
export function fluoroRdsr(s: FluoroStudy): Uint8Array {
  const date = s.date ?? "20260304";
  const events: ProjectionEventParams[] = s.rpPerEvent.map((rp, i) => ({
    uid: hashUid(s.tag, "event", String(i)),
    dateTime: `${date}10${String(i).padStart(2, "0")}00`,
    eventType: V.fluoroscopy,
    protocol: "Hepatic embolisation",
    targetRegion: REGION.abdomen,
    dap_Gym2: s.dapPerEvent ?? 0.002,
    rpDose_Gy: rp,
    kvp: 85,
    tubeCurrent_mA: 12,
    exposureTime_ms: 60000,
    irradiationDuration_s: s.secondsPerEvent ?? 120,
    pulseRate: 7.5,
  }));
  return toPart10(
    buildProjectionRdsr({
      modality: s.modality ?? "XA",
      patient: {
        patientId: s.patientId ?? `MRN-${s.tag}`,
        issuerOfPatientId: "RVV",
        nhsNumber: s.nhsNumber === undefined ? FLUORO_NHS_NUMBER : s.nhsNumber,
        name: "TESTPATIENT^Alice",
        birthDate: "19560214",
        sex: "F",
      },
      device: {
        manufacturer: "Siemens",
        model: "Artis Q",
        stationName: "IR1",
        serialNumber: "IR-0001",
        softwareVersions: "VD11",
        institutionName: "Kent and Canterbury Hospital",
        observerUid: hashUid("ir-device"),
      },
      study: {
        studyInstanceUid: hashUid(s.tag, "study"),
        seriesInstanceUid: hashUid(s.tag, "series"),
        sopInstanceUid: hashUid(s.tag, "sop"),
        date,
        time: "100000",
        accessionNumber: `ACC-${s.tag}`,
        description: "IR hepatic embolisation",
      },
      events,
    }),
  );
}

export interface Received {
  body: string;
  headers: IncomingHttpHeaders;
}

/** An HTTP server on 127.0.0.1 that records each POST and answers with the next status of `statuses` (then 200). */
export async function webhookReceiver(statuses: number[] = []): Promise<{ url: string; received: Received[]; close(): Promise<void>; server: Server }> {
  const received: Received[] = [];
  const queue = [...statuses];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ body: Buffer.concat(chunks).toString("utf8"), headers: req.headers });
      const status = queue.shift() ?? 200;
      res.writeHead(status, { "content-type": "text/plain" }).end(status < 300 ? "ok" : "try later");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/dose`,
    received,
    server,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
