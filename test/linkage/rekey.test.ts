/**
 * Key rotation (`sievert rekey`): links survive. Studies stored under key 1 are re-keyed to the
 * chain (key 1, key 2) without any identifier; an object stored afterwards under the chain gets
 * the same pseudonym as the patient's earlier studies, the precheck finds them across trusts,
 * repeat detection links old and new, and a process still on the old key is refused.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import type { OpenedDatabase } from "../../src/db/client.ts";
import { ingestBytes } from "../../src/ingest/index.ts";
import { chainOf, keyChain, keyFingerprint, loadPseudonymKey, pseudonymise } from "../../src/linkage/index.ts";
import { rekey, RekeyError } from "../../src/linkage/rekey.ts";
import { detectRepeats, findComparablePriors, KeyMismatchError, listRepeats, PrecheckRequestSchema } from "../../src/repeats/index.ts";
import { openTestDatabase, TEST_KEY } from "../helpers/db.ts";
import { ctStudy, type StudySpec } from "../repeats/fixtures.ts";

const NHS = "9434765919";
const KEY2 = Buffer.alloc(32, 0x17);
let opened: OpenedDatabase;

async function store(spec: StudySpec, key: Uint8Array): Promise<void> {
  const r = await ingestBytes(opened.db, ctStudy(spec).bytes, { source: "import", trustOds: spec.trust, name: "t", key });
  expect(r.outcome).toBe("stored");
}

async function pseudonyms(): Promise<string[]> {
  const r = await opened.db.execute(sql`SELECT DISTINCT patient_pseudonym AS p FROM studies ORDER BY 1`);
  return ((Array.isArray(r) ? r : (r as { rows: unknown[] }).rows) as Array<{ p: string }>).map((x) => x.p);
}

beforeAll(async () => {
  opened = await openTestDatabase();
});
afterAll(async () => opened?.close());

describe("key rotation", () => {
  it("re-keys every stored pseudonym through the chain and keeps links", async () => {
    await store({ nhs: NHS, patientId: "A1", trust: "RVV", description: "CT Head", date: "2024-07-01", time: "08:00" }, TEST_KEY);
    await store({ nhs: null, patientId: "LOCAL7", trust: "RN7", description: "CT Chest", date: "2024-07-01", time: "08:00" }, TEST_KEY);
    await detectRepeats(opened.db, TEST_KEY);
    const before = await pseudonyms();

    const r = await rekey(opened.db, TEST_KEY, KEY2);
    expect(r.version).toBe(2);
    expect(r.rows["studies.patient_pseudonym"]).toBe(2);
    expect(r.rows["study_links.link_key"]).toBe(2);
    const after = await pseudonyms();
    expect(after).not.toEqual(before);
    const chain = r.key;
    expect(chainOf(chain)).toHaveLength(2);
    expect(after).toContain(pseudonymise({ patientId: "X", issuerOfPatientId: null, nhsNumberCandidate: NHS, patientName: null, birthDate: null }, chain));

    // Stale key refused, old chain cannot rekey again.
    await expect(detectRepeats(opened.db, TEST_KEY)).rejects.toThrow(KeyMismatchError);
    await expect(rekey(opened.db, TEST_KEY, Buffer.alloc(32, 0x99))).rejects.toThrow(RekeyError);

    // New objects under the chain link to the re-keyed ones, across trusts and within a trust.
    await store({ nhs: NHS, patientId: "B9", trust: "RPA", description: "CT Head", date: "2024-07-01", time: "20:00" }, chain);
    await store({ nhs: null, patientId: "LOCAL7", trust: "RN7", description: "CT Chest", date: "2024-07-01", time: "09:00" }, chain);
    await detectRepeats(opened.db, chain);
    const repeats = await listRepeats(opened.db);
    expect(repeats.map((x) => [x.trustOds, x.priorTrustOds, x.family]).sort()).toEqual([
      ["RN7", "RN7", "ct-chest"],
      ["RPA", "RVV", "ct-head"],
    ]);
    const pre = await findComparablePriors(
      opened.db,
      PrecheckRequestSchema.parse({ patient: { nhsNumber: NHS }, requestingTrust: "RWF", exam: { code: "CT_HEAD" }, at: "2024-07-01T21:00:00" }),
      { key: chain },
    );
    expect(pre.priors.map((p) => p.trust.ods).sort()).toEqual(["RPA", "RVV"]);
  });

  it("loads the chain from SIEVERT_PSEUDONYM_KEY_PREVIOUS or a multi-line key file", () => {
    const viaEnv = loadPseudonymKey({ env: { SIEVERT_PSEUDONYM_KEY: KEY2.toString("hex"), SIEVERT_PSEUDONYM_KEY_PREVIOUS: TEST_KEY.toString("hex") } });
    expect(keyFingerprint(viaEnv)).toBe(keyFingerprint(keyChain([TEST_KEY, KEY2])));
    const dir = mkdtempSync(join(tmpdir(), "sievert-key-"));
    writeFileSync(join(dir, "pseudonym.key"), `${TEST_KEY.toString("hex")}\n${KEY2.toString("hex")}\n`);
    const viaFile = loadPseudonymKey({ dataDir: dir, env: {} });
    expect(keyFingerprint(viaFile)).toBe(keyFingerprint(viaEnv));
    expect(keyFingerprint(viaFile)).not.toBe(keyFingerprint(KEY2));
  });
});
