/**
 * The `sievert` command line: thin commands over the same services the HTTP API uses.
 * Exit status: 0 success, 1 a runtime failure (a file could not be opened, the database
 * is unreachable), 2 a usage error.
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { ConfigError, loadConfig } from "../config/index.ts";
import { PseudonymKeyError } from "../linkage/index.ts";
import { PatternError } from "../analytics/safe-pattern.ts";
import { registerAnalyticsCommands } from "../analytics/cli.ts";
import { registerRepeatCommands } from "../repeats/cli.ts";
import { backfillCommand } from "../backfill/command.ts";
import { registerAlertCommands } from "../alerts/cli.ts";
import { registerReportCommands } from "../report/cli.ts";
import { registerTokenCommands } from "../auth/cli.ts";
import { registerAuditCommands } from "../audit/cli.ts";
import { registerExportCommands } from "../exports/cli.ts";
import { registerSummaryCommands } from "../summary/cli.ts";
import { registerQualityCommands } from "../quality/cli.ts";
import { registerFhirCommands } from "../fhir/cli.ts";

export const VERSION = "0.1.0";
const PROJECT_ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const DEFAULT_SAMPLE_DIR = resolve(PROJECT_ROOT, "sample-rdsr");

function odsCode(value: string): string {
  const v = value.trim().toUpperCase();
  if (!/^[A-Z0-9]{3,5}$/.test(v)) throw new InvalidArgumentError("an ODS code is 3 to 5 letters or digits, e.g. RVV");
  return v;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("expected a whole number");
  return n;
}

function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command();
  program
    .name("sievert")
    .description("Radiation dose monitoring: read DICOM dose objects, store them, serve them.")
    .version(VERSION)
    .exitOverride() // before the subcommands, so they inherit it: usage errors return 2 instead of exiting
    .showHelpAfterError("(run sievert --help for usage)")
    .addHelpText(
      "after",
      `
Environment:
  DATABASE_URL            postgres://… to use a Postgres server (default: embedded PGlite in the data directory)
  SIEVERT_DATA_DIR        embedded database and generated pseudonym key (default ./.sievert)
  SIEVERT_PSEUDONYM_KEY   HMAC key for patient pseudonyms, hex or base64, ≥ 32 bytes (required with DATABASE_URL)
  SIEVERT_PSEUDONYM_KEY_PREVIOUS   after \`sievert rekey\`: the earlier keys, oldest first, comma-separated
  SIEVERT_DB_SCHEMA       Postgres schema for the tables (default public)
  SIEVERT_HOST, SIEVERT_PORT   where \`serve\` listens (default 127.0.0.1:8080)
  SIEVERT_DIMSE_PORT      C-STORE SCP port for \`serve\` and \`listen\` (default 11112; 0 or off: not started by serve)
  SIEVERT_AE_TITLE        our AE title (default SIEVERT); SIEVERT_AE_TRUSTS "AET=ODS,…" or SIEVERT_AE_TRUSTS_FILE (JSON)
  SIEVERT_DIMSE_HOST      address the SCP listens on (default SIEVERT_HOST)
  SIEVERT_AE_UNKNOWN      reject (default) or the ODS code unknown calling AE titles are mapped to
  SIEVERT_INGEST_CONCURRENCY, SIEVERT_INGEST_QUEUE   network objects ingested at once (default 4);
                          objects waiting before senders are slowed (default 64)
  SIEVERT_STOW_PARALLEL   STOW-RS parts stored at once, shared by all requests (default 4)
  SIEVERT_STOW_MAX_REQUEST_BYTES   largest STOW-RS request body (default 2 GiB; over it: 413)
  SIEVERT_MAX_OBJECT_BYTES   largest DICOM upload accepted (default 64 MiB)
  SIEVERT_MAX_ELEMENTS    most DICOM elements + sequence items read from one object (default 1000000; over it
                          the object is quarantined as too-complex)
  SIEVERT_AUTH            tokens (default for serve) or open (no authentication: loopback addresses only;
                          the default of serve --demo on loopback). Tokens: sievert token create|list|revoke
  SIEVERT_MAX_JSON_BYTES  largest non-DICOM request body (default 1 MiB; over it: 413)
  SIEVERT_HTTP_HEADERS_TIMEOUT_MS, SIEVERT_HTTP_REQUEST_TIMEOUT_MS, SIEVERT_HTTP_KEEPALIVE_TIMEOUT_MS
                          slow-client limits of \`serve\` (see README "Hostile input" for the defaults)
  SIEVERT_ALERT_WEBHOOK_URL   where high-dose alerts are POSTed (no patient identifiers; unset: listed only)
  SIEVERT_ALERT_SCAN_MS   how often \`serve\` checks new objects for alerts (default 5000)
  SIEVERT_PUBLIC_URL      absolute base URL for links in webhooks, CDS Hooks cards and FHIR Bundles
  SIEVERT_CDS_TRUST       ODS code of the ordering trust when a CDS Hooks order names none
  PLAYWRIGHT_CHROMIUM_EXECUTABLE   the Chromium that prints the committee report to PDF (default /usr/bin/chromium)
  LOG_LEVEL               fatal|error|warn|info|debug|trace|silent (default info)`,
    );

  program
    .command("parse")
    .description("Read DICOM files and print one DoseReport per file (directories are recursed in sorted order; *.json and *.md are skipped). Patient identifiers are never printed.")
    .argument("<paths...>", "files or directories")
    .option("--json", "print NDJSON, one DoseReport per line, in input order")
    .addHelpText("after", "\nExit status: 0 when every file was read (also those reported ok:false: not DICOM, truncated, malformed), 1 when a file could not be opened, 2 on a usage error.")
    .action(async (paths: string[], opts: { json?: boolean }) => {
      const { runParse } = await import("./parse-command.ts");
      setExit(await runParse(paths, { json: opts.json === true }, process.stdout));
    });

  program
    .command("import")
    .description("Store every dose object under the given paths (each in its own transaction; a rejected object is quarantined with its bytes); prints a progress bar on a terminal and stored / already present / not dose / quarantined. Exit status 1 when a file could not be opened.")
    .argument("<paths...>", "files or directories")
    .option("--trust <ods>", "ODS code of the trust that produced the objects", odsCode)
    .option("--concurrency <n>", "objects in flight at once (useful with a Postgres server)", positiveInt, 4)
    .action(async (paths: string[], opts: { trust?: string; concurrency: number }) => {
      const { importPaths, formatSummary } = await import("./import-command.ts");
      const { openServices } = await import("./context.ts");
      const services = await openServices(loadConfig());
      try {
        const summary = await importPaths(services.db, paths, {
          trustOds: opts.trust ?? null,
          key: services.key,
          concurrency: opts.concurrency,
          progress: process.stderr.isTTY === true,
        });
        process.stdout.write(`${formatSummary(summary)}\n`);
        setExit(summary.unreadable > 0 ? 1 : 0);
      } finally {
        await services.close();
      }
    });

  program
    .command("serve")
    .description("Run the HTTP service (API, OpenAPI document at /openapi.json). API tokens are required (SIEVERT_AUTH=tokens) unless it is the demo, or SIEVERT_AUTH=open, on a loopback address.")
    .option("--demo", `load the demo data from ${DEFAULT_SAMPLE_DIR} before serving (objects already stored are skipped); open (no tokens) when listening on loopback, and says so`)
    .option("--port <port>", "port to listen on (overrides SIEVERT_PORT; 0 picks a free port)", positiveInt)
    .option("--host <host>", "address to listen on (overrides SIEVERT_HOST)")
    .action(async (opts: { demo?: boolean; port?: number; host?: string }) => {
      const { runServer } = await import("./serve-command.ts");
      await runServer({ demo: opts.demo === true, port: opts.port, host: opts.host, sampleDir: DEFAULT_SAMPLE_DIR });
    });

  program
    .command("listen")
    .description("Run the DICOM C-STORE/C-ECHO SCP alone (no HTTP); prints its AE title and port. Objects are acknowledged only once stored.")
    .option("--port <port>", "port to listen on (overrides SIEVERT_DIMSE_PORT; 0 picks a free port)", positiveInt)
    .option("--ae-title <aet>", "called AE title to answer to (overrides SIEVERT_AE_TITLE)")
    .action(async (opts: { port?: number; aeTitle?: string }) => {
      const { runListen } = await import("../dimse/listen-command.ts");
      await runListen({ port: opts.port, aeTitle: opts.aeTitle });
    });

  program
    .command("synth")
    .description("Write synthetic dose objects (CT, DX, RF, MG, NM RDSRs) for several trusts and devices.")
    .requiredOption("--out <dir>", "output folder (e.g. sample-rdsr)")
    .option("--seed <n>", "random seed: the same seed writes byte-identical files", positiveInt, 1)
    .action(async (opts: { out: string; seed: number }) => {
      const { runSynth } = await import("../synth/index.ts");
      process.stdout.write(`${await runSynth({ outDir: opts.out, seed: opts.seed })}\n`);
    });

  program
    .command("migrate")
    .description("Apply database migrations and exit (the service also applies them on start).")
    .action(async () => {
      const { openServices } = await import("./context.ts");
      const services = await openServices(loadConfig());
      process.stdout.write(`migrations applied (${services.dialect})\n`);
      await services.close();
    });

  registerAnalyticsCommands(program);
  registerRepeatCommands(program);
  registerAlertCommands(program);
  registerReportCommands(program);
  registerTokenCommands(program, setExit);
  registerAuditCommands(program);
  registerExportCommands(program);
  registerSummaryCommands(program, setExit);
  registerQualityCommands(program, setExit);
  registerFhirCommands(program, setExit);
  program.addCommand(backfillCommand(setExit));
  return program;
}

/** Runs the CLI and returns the exit status. */
export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const program = buildProgram((c) => {
    exitCode = c;
  });
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help") return 0;
      return 2;
    }
    if (e instanceof ConfigError || e instanceof PseudonymKeyError) {
      process.stderr.write(`sievert: ${e.message}\n`);
      return 2;
    }
    // A user regular expression RE2 refuses (exams map --match regex, repeats rules set --exclude).
    if (e instanceof PatternError || (e instanceof Error && e.cause instanceof PatternError)) {
      process.stderr.write(`sievert: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`sievert: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 1;
  }
}
