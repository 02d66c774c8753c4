/** `sievert listen`: the C-STORE SCP alone (no HTTP), until SIGINT/SIGTERM. */
import pino from "pino";
import { loadConfig } from "../config/index.ts";
import { openServices } from "../cli/context.ts";
import { startDimseFromConfig } from "./service.ts";

export interface ListenOptions {
  port: number | undefined;
  aeTitle: string | undefined;
}

export async function runListen(options: ListenOptions): Promise<void> {
  const config = loadConfig();
  const logger = pino({ level: config.logLevel });
  const services = await openServices(config);
  logger.info({ database: services.dialect, schema: services.schema ?? undefined }, "storage open, migrations applied");
  const port = options.port ?? config.dimse.port ?? 11112; // `listen` runs the SCP even when serve has it off
  let server;
  try {
    server = await startDimseFromConfig({
      db: services.db,
      key: services.key,
      config: config.dimse,
      maxObjectBytes: config.maxObjectBytes,
      logger,
      port,
      ...(options.aeTitle === undefined ? {} : { aeTitle: options.aeTitle }),
    });
  } catch (err) {
    await services.close();
    throw err;
  }
  if (!server) return;
  process.stdout.write(`Sievert DICOM SCP ${server.aeTitle} listening on ${server.host}:${server.port}\n`);
  const running = server;
  const shutdown = (signal: string): void => {
    logger.info({ signal }, "shutting down: finishing objects in flight");
    setTimeout(() => process.exit(1), 15_000).unref();
    void running
      .close()
      .then(() => services.close())
      .then(() => process.exit(0));
  };
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGTERM", () => shutdown("SIGTERM"));
}
