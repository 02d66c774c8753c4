/**
 * Where a prior exam's images are held: the performing trust's PACS, with a viewer link when the
 * consortium has configured one (./data/image-locations.json; domain.md §6.4).
 */
import { readFileSync } from "node:fs";
import { z } from "zod";

const EntrySchema = z.object({ system: z.string(), viewerUrl: z.string().nullable(), status: z.string().optional() });
const FileSchema = z.object({ description: z.string().optional(), default: EntrySchema, trusts: z.record(z.string(), EntrySchema) });

export interface ImageLocation {
  trustOds: string | null;
  /** "PACS", or the system named in the configuration. */
  system: string;
  /** Human-readable: "the PACS of Medway NHS Foundation Trust (RPA)". */
  description: string;
  /** A link to the study in the viewer, when configured. */
  viewerUrl: string | null;
}

let config: z.infer<typeof FileSchema> | null = null;

export function imageLocation(trustOds: string | null, trustName: string | null, studyInstanceUid: string): ImageLocation {
  config ??= FileSchema.parse(JSON.parse(readFileSync(new URL("./data/image-locations.json", import.meta.url), "utf8")));
  const entry = (trustOds && config.trusts[trustOds]) || config.default;
  const who = trustName ? `${trustName}${trustOds ? ` (${trustOds})` : ""}` : (trustOds ?? "the performing trust");
  return {
    trustOds,
    system: entry.system,
    description: `the ${entry.system} of ${who}`,
    viewerUrl: entry.viewerUrl ? entry.viewerUrl.replaceAll("{studyInstanceUid}", encodeURIComponent(studyInstanceUid)) : null,
  };
}
