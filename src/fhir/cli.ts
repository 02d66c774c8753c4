/**
 * `sievert fhir search [--study UID] [--patient ID] [--nhs-number N] [--date D]… [--include]` prints
 * the searchset Bundle `GET /fhir/Observation` would answer (patients as pseudonyms: the command
 * never reveals identifiers); `sievert fhir validate FILE…` checks FHIR JSON files (a Bundle or one
 * resource, ours or another producer's) against the IG v1.0.0 rule table (data/profile-rules.json).
 * Registered from src/cli/main.ts with registerFhirCommands(program, setExit).
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { loadConfig } from "../config/index.ts";
import { SearchError } from "./search.ts";
import { publicFhirBase, searchObservations } from "./service.ts";
import type { FhirResource } from "./types.ts";
import { validateBundle, validateResource } from "./validate.ts";

interface SearchOptions {
  study?: string;
  patient?: string;
  nhsNumber?: string;
  date?: string[];
  include?: boolean;
  count?: string;
  offset?: string;
}

export function registerFhirCommands(program: Command, setExit: (code: number) => void): void {
  const fhir = program.command("fhir").description("FHIR R4 radiation dose summaries (HL7 Radiation Dose Summary IG v1.0.0), as served at /fhir.");
  fhir
    .command("search")
    .description("Print the searchset Bundle of dose summaries GET /fhir/Observation would answer (patients as pseudonyms).")
    .option("--study <uid>", "Study Instance UID (part-of=ImagingStudy/<uid>)")
    .option("--patient <id>", "Patient id (the pseudonym, or nopid-<n>)")
    .option("--nhs-number <n>", "NHS number (pseudonymised at once, never printed)")
    .option("--date <value>", "date search value, e.g. ge2025-01-01 (repeatable)", (v: string, acc: string[] = []) => [...acc, v])
    .option("--include", "add the referenced Patient, ImagingStudy and Device (_include=*)")
    .option("--count <n>", "page size (default 50, max 500)")
    .option("--offset <n>", "paging offset")
    .action(async (o: SearchOptions) => {
      const params: Record<string, string[]> = {};
      if (o.study) params["part-of"] = [`ImagingStudy/${o.study}`];
      if (o.patient) params.patient = [o.patient];
      if (o.nhsNumber) params["patient.identifier"] = [`https://fhir.nhs.uk/Id/nhs-number|${o.nhsNumber}`];
      if (o.date) params.date = o.date;
      if (o.include) params._include = ["*"];
      if (o.count) params._count = [o.count];
      if (o.offset) params._offset = [o.offset];
      const { openServices } = await import("../cli/context.ts");
      const config = loadConfig();
      const services = await openServices(config);
      try {
        const base = publicFhirBase(config.publicUrl, "http://localhost");
        const self = new URL(`${base}/Observation`);
        for (const [k, vs] of Object.entries(params)) for (const v of vs) if (k !== "patient.identifier") self.searchParams.append(k, v);
        const bundle = await searchObservations({ db: services.db, key: services.key, base, reveal: false, trusts: null }, params, self);
        process.stdout.write(`${JSON.stringify(bundle, null, 2)}\n`);
      } catch (err) {
        if (!(err instanceof SearchError)) throw err;
        process.stderr.write(`sievert fhir search: ${err.message}\n`);
        setExit(2);
      } finally {
        await services.close();
      }
    });
  fhir
    .command("validate")
    .description("Check FHIR JSON files (a Bundle or one resource) against the IG's required elements and fixed codes; exit 1 when any fails.")
    .argument("<files...>", "FHIR JSON files")
    .action((files: string[]) => {
      let failed = 0;
      for (const file of files) {
        let resource: FhirResource;
        try {
          resource = JSON.parse(readFileSync(file, "utf8")) as FhirResource;
        } catch (err) {
          process.stderr.write(`${file}: not readable as JSON: ${err instanceof Error ? err.message : String(err)}\n`);
          failed++;
          continue;
        }
        const violations = resource.resourceType === "Bundle" ? validateBundle(resource) : validateResource(resource);
        if (violations.length === 0) {
          process.stdout.write(`${file}: ok\n`);
          continue;
        }
        failed++;
        for (const v of violations) process.stdout.write(`${file}: ${v.where}: ${v.message} (${v.profile})\n`);
      }
      setExit(failed > 0 ? 1 : 0);
    });
}
