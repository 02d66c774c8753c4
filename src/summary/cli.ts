/** `sievert summary STUDY_UID [--json]`: the study's dose statement (as GET /api/v1/studies/{uid}/summary). */
import type { Command } from "commander";
import { withAnalyticsService } from "../cli/with-services.ts";
import { studySummary, StudyNotFoundError } from "./service.ts";

export function registerSummaryCommands(program: Command, setExit: (code: number) => void): void {
  program
    .command("summary")
    .description("The one-line dose statement for a study's radiology report, with the local or national DRL for context (syncs the analytics copy first, for the local DRLs).")
    .argument("<studyInstanceUid>", "Study Instance UID of a stored study")
    .option("--json", "print the JSON summary (quantities, exam, reference, objects)")
    .action(async (uid: string, opts: { json?: boolean }) => {
      await withAnalyticsService(async (s) => {
        await s.sync();
        try {
          const summary = await studySummary(s.db, s, uid);
          process.stdout.write(opts.json ? `${JSON.stringify(summary, null, 2)}\n` : `${summary.text}\n`);
        } catch (err) {
          if (!(err instanceof StudyNotFoundError)) throw err;
          process.stderr.write(`sievert: ${err.message}\n`);
          setExit(1);
        }
      });
    });
}
