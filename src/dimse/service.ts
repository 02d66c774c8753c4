/**
 * The SCP as the service runs it: configuration → running server, shared by `sievert serve`
 * (started beside the HTTP API when SIEVERT_DIMSE_PORT is not off) and `sievert listen`.
 */
import type { Logger } from "pino";
import type { DimseConfig } from "../config/index.ts";
import type { SievertDb } from "../db/client.ts";
import { loadAeTrustTable } from "./ae-table.ts";
import { startDimseServer, type DimseServer } from "./scp.ts";

export interface StartFromConfigOptions {
  db: SievertDb;
  key: Uint8Array;
  config: DimseConfig;
  maxObjectBytes: number;
  logger: Logger;
  /** Overrides config.port (0 picks a free port). */
  port?: number;
  /** Overrides config.aeTitle. */
  aeTitle?: string;
}

/** Starts the SCP, or returns null when it is off (SIEVERT_DIMSE_PORT=off and no port given). */
export async function startDimseFromConfig(o: StartFromConfigOptions): Promise<DimseServer | null> {
  const port = o.port ?? o.config.port;
  if (port === null) return null;
  const table = loadAeTrustTable({ list: o.config.aeTrusts, file: o.config.aeTrustsFile, unknown: o.config.aeUnknown });
  const server = await startDimseServer({
    db: o.db,
    key: o.key,
    aeTitle: (o.aeTitle ?? o.config.aeTitle).trim(),
    table,
    port,
    host: o.config.host,
    concurrency: o.config.ingestConcurrency,
    queueLimit: o.config.ingestQueue,
    maxObjectBytes: o.maxObjectBytes,
    logger: o.logger,
  });
  o.logger.info(
    {
      aeTitle: server.aeTitle,
      host: server.host,
      port: server.port,
      knownCallers: table.entries.size,
      unknownCallers: table.unknown ?? "reject",
      concurrency: server.queue.concurrency,
    },
    "DICOM C-STORE SCP listening",
  );
  return server;
}
