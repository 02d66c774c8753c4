/**
 * ingestBytes = parseDicom + storeParsedObject, on the real parser and the committed sample
 * objects in sample-rdsr/ (an evenly spaced selection covering every trust and kind).
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { count, eq } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ParsedObject } from "../../src/dicom/dose-report.ts";
import { parseDicom } from "../../src/dicom/parse.ts";
import type { OpenedDatabase, SievertDb } from "../../src/db/client.ts";
import { doseObjects, irradiationEvents, quarantine, studies } from "../../src/db/schema.ts";
import { ingestBytes } from "../../src/ingest/ingest.ts";
import type { IngestMeta, StoreOutcome } from "../../src/ingest/store.ts";
import { pseudonymise } from "../../src/linkage/pseudonym.ts";
import { openTestDatabase, resetTestDatabase, TEST_KEY } from "../helpers/db.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const sampleDir = join(root, "sample-rdsr");

function sampleFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sampleFiles(path));
    else if (!/\.(md|json|txt|csv|ndjson)$/i.test(name)) out.push(path);
  }
  return out;
}
const allSamples = sampleFiles(sampleDir);
const MAX_SAMPLES = 24;
const step = Math.max(1, Math.floor(allSamples.length / MAX_SAMPLES));
const samples = allSamples.filter((_, i) => i % step === 0).slice(0, MAX_SAMPLES);

describe("ingestBytes on the sample objects", () => {
  let opened: OpenedDatabase;
  let db: SievertDb;
  const files = samples.map((path) => ({ path, name: path.slice(root.length), bytes: new Uint8Array(readFileSync(path)) }));
  const meta = (name: string, over: Partial<IngestMeta> = {}): IngestMeta => ({ source: "import", trustOds: "RJ1", name, key: TEST_KEY, ...over });
  const rows = async (table: PgTable) => (await db.select({ n: count() }).from(table))[0]?.n ?? 0;
  // What each file should become, from the parser's own verdict.
  let expected: { name: string; outcome: StoreOutcome; sop: string | null; identity: ParsedObject["identity"] }[];

  beforeAll(async () => {
    opened = await openTestDatabase();
    db = opened.db;
    const seen = new Set<string>();
    expected = files.map((f) => {
      const parsed = parseDicom(f.bytes, f.name);
      const sop = parsed.report.sopInstanceUid;
      let outcome: StoreOutcome;
      if (!parsed.report.ok || (parsed.report.kind !== "not-dose" && !sop)) outcome = "quarantined";
      else if (parsed.report.kind === "not-dose") outcome = "not-dose";
      else if (sop && seen.has(sop)) outcome = "duplicate";
      else outcome = "stored";
      if (sop && outcome === "stored") seen.add(sop);
      return { name: f.name, outcome, sop, identity: parsed.identity };
    });
  });
  afterAll(async () => {
    await opened?.close();
  });
  beforeEach(async () => {
    await resetTestDatabase(db);
  });

  it("has sample objects to run on (sample-rdsr/ is committed)", () => {
    expect(samples.length).toBeGreaterThanOrEqual(Math.min(MAX_SAMPLES, allSamples.length));
    expect(samples.length).toBeGreaterThan(5);
  });

  it("stores each dose object, skips non-dose objects and quarantines unreadable ones; a re-run only finds duplicates", async () => {
    const first = [];
    for (const f of files) first.push((await ingestBytes(db, f.bytes, meta(f.name))).outcome);
    expect(first).toEqual(expected.map((e) => e.outcome));
    const stored = expected.filter((e) => e.outcome === "stored").length;
    expect(stored).toBeGreaterThan(0);
    expect(await rows(doseObjects)).toBe(stored);

    const second = [];
    for (const f of files) second.push((await ingestBytes(db, f.bytes, meta(f.name))).outcome);
    expect(second).toEqual(expected.map((e) => (e.outcome === "stored" ? "duplicate" : e.outcome)));
    expect(await rows(doseObjects)).toBe(stored);
  });

  it("never stores a patient identifier in plaintext in reports or study rows", async () => {
    for (const f of files) await ingestBytes(db, f.bytes, meta(f.name));
    const text = JSON.stringify(await db.select({ r: doseObjects.report }).from(doseObjects)) + JSON.stringify(await db.select().from(studies));
    const secrets = expected
      .flatMap((e) => [e.identity.patientId, e.identity.nhsNumberCandidate, e.identity.patientName])
      .filter((s): s is string => !!s && s.trim().length >= 4);
    expect(secrets.length).toBeGreaterThan(0);
    for (const s of secrets) expect(text).not.toContain(s.trim());
  });

  it("stores the keyed pseudonym of the object's own identity on its study", async () => {
    const i = expected.findIndex((e) => e.outcome === "stored" && (e.identity.patientId || e.identity.nhsNumberCandidate));
    expect(i).toBeGreaterThanOrEqual(0);
    const f = files[i]!;
    const result = await ingestBytes(db, f.bytes, meta(f.name));
    const [row] = await db
      .select({ p: studies.patientPseudonym })
      .from(studies)
      .innerJoin(doseObjects, eq(doseObjects.studyId, studies.id))
      .where(eq(doseObjects.sopInstanceUid, result.sopInstanceUid!));
    expect(row?.p).toBe(pseudonymise(expected[i]!.identity, TEST_KEY));
    expect(row?.p).toMatch(/^[0-9a-f]{64}$/);
  });

  it("quarantines bytes that are not DICOM with code not-dicom and keeps the bytes", async () => {
    const junk = new TextEncoder().encode("this is a shopping list, not an RDSR\n".repeat(20));
    const result = await ingestBytes(db, junk, meta("list.txt"));
    expect(result.outcome).toBe("quarantined");
    const [q] = await db.select().from(quarantine);
    expect(q?.errorCode).toBe("not-dicom");
    expect(q?.rawBytes.length).toBe(junk.length);
  });

  it("stores a file once when it is ingested concurrently", async () => {
    const target = files.find((_, i) => expected[i]?.outcome === "stored")!;
    const results = await Promise.all(Array.from({ length: 5 }, () => ingestBytes(db, target.bytes, meta(target.name))));
    expect(results.map((r) => r.outcome).sort()).toEqual(["duplicate", "duplicate", "duplicate", "duplicate", "stored"]);
    expect(await rows(doseObjects)).toBe(1);
  });

  it("keeps whole objects only when one fails mid-import, and a re-run stores the missing one", async () => {
    const victimIndex = expected.findIndex((e) => e.outcome === "stored");
    const victim = expected[victimIndex]!.sop!;
    const failing = (name: string): IngestMeta =>
      meta(name, { beforeCommit: (uid) => { if (uid === victim) throw new Error("injected failure"); } });
    for (const f of files) await ingestBytes(db, f.bytes, failing(f.name)).catch(() => undefined);
    expect(await db.select().from(doseObjects).where(eq(doseObjects.sopInstanceUid, victim))).toEqual([]);
    const storedCount = expected.filter((e) => e.outcome === "stored").length;
    expect(await rows(doseObjects)).toBe(storedCount - 1);
    const eventsBefore = await rows(irradiationEvents);

    const rerun = await ingestBytes(db, files[victimIndex]!.bytes, meta(files[victimIndex]!.name));
    expect(rerun.outcome).toBe("stored");
    expect(await rows(doseObjects)).toBe(storedCount);
    expect(await rows(irradiationEvents)).toBeGreaterThanOrEqual(eventsBefore);
  });
});
