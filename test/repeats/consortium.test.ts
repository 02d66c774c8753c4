/**
 * Repeat detection on a synthetic consortium with ground-truth repeats: patients moving
 * between the four trusts, planned follow-ups that must not count, exams just inside and just
 * outside the window (domain.md §6.1 [S44]: same body part within 24 h for CT), patients without
 * an NHS number (linked within their trust only), an invalid NHS number, out-of-order arrival.
 * The truth is computed by a brute-force oracle over the scenario (not by the detector's code):
 * for each exam that is not planned follow-up, the nearest earlier exam of the same patient
 * (consortium-wide with a valid NHS number, else same trust + local ID) sharing a family of
 * src/repeats/data/rules.json within that family's window. Precision and recall are printed
 * and must both be 1.0 on the rules as defined.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import type { OpenedDatabase } from "../../src/db/client.ts";
import { ingestBytes } from "../../src/ingest/index.ts";
import { validateNhsNumber } from "../../src/linkage/index.ts";
import { detectRepeats, listRepeats, loadDefaultRules, repeatRates } from "../../src/repeats/index.ts";
import { Rng, syntheticNhsNumber } from "../../src/synth/index.ts";
import { openTestDatabase, TEST_KEY } from "../helpers/db.ts";
import { ctStudy, type StudySpec } from "./fixtures.ts";

const TRUSTS = ["RVV", "RN7", "RPA", "RWF"];
const EXAMS: Record<string, string> = {
  CT_HEAD: "CT Head",
  CT_CHEST: "CT Chest",
  CT_ABDO_PELVIS: "CT Abdomen Pelvis with contrast",
  CT_CAP: "CT Chest Abdomen Pelvis with contrast",
  CT_CSPINE: "CT Cervical Spine",
};
const FOLLOW_UP = " - planned follow-up";

interface Exam extends StudySpec {
  code: string;
  at: number; // ms
  uid: string;
  planned: boolean;
}

function scenario(): Exam[] {
  const rng = new Rng("repeats-ground-truth", 1);
  const exams: Exam[] = [];
  const base = Date.parse("2024-05-01T00:00:00Z");
  const add = (p: { nhs: string | null; ids: Record<string, string> }, trust: string, code: string, at: number, planned = false): void => {
    const iso = new Date(at).toISOString();
    const spec: StudySpec = {
      nhs: p.nhs,
      patientId: p.ids[trust]!,
      issuer: null,
      trust,
      description: EXAMS[code]! + (planned ? FOLLOW_UP : ""),
      date: iso.slice(0, 10),
      time: iso.slice(11, 19),
      tag: `gt-${exams.length}`,
    };
    exams.push({ ...spec, code, at, planned, uid: ctStudy(spec).studyInstanceUid });
  };
  const patient = (withNhs: boolean, n: number) => ({
    nhs: withNhs ? syntheticNhsNumber(rng) : null,
    ids: Object.fromEntries(TRUSTS.map((t) => [t, `${t}${String(n).padStart(6, "0")}`])),
  });
  const H = 3_600_000;
  let n = 0;
  // Random movers: 4–6 exams each over ~10 days at random trusts; some gaps fall inside 24 h.
  for (let i = 0; i < 24; i++) {
    const p = patient(i % 6 !== 0, n++);
    let t = base + rng.int(0, 30) * 24 * H;
    for (let k = 0, m = rng.int(4, 6); k < m; k++) {
      const code = Object.keys(EXAMS)[rng.int(0, 4)]!;
      add(p, TRUSTS[rng.int(0, 3)]!, code, t, rng.next() < 0.15);
      t += rng.int(1, 40) * H + rng.int(0, 59) * 60_000;
    }
  }
  // Edges: exactly at the window (24 h: inside), one second outside, one second inside.
  for (const [gap, label] of [[24 * H, "edge-in"], [24 * H + 1000, "edge-out"], [24 * H - 1000, "just-in"]] as const) {
    void label;
    const p = patient(true, n++);
    const t = base + 40 * 24 * H;
    add(p, "RVV", "CT_HEAD", t);
    add(p, "RPA", "CT_HEAD", t + gap);
  }
  // No NHS number: the same local ID at two trusts is two patients; at one trust, one patient.
  {
    const p = patient(false, n++);
    const shared = { nhs: null, ids: Object.fromEntries(TRUSTS.map((t) => [t, "SHARED01"])) };
    const t = base + 50 * 24 * H;
    add(shared, "RN7", "CT_CHEST", t);
    add(shared, "RWF", "CT_CHEST", t + 2 * H); // other trust: not linked
    add(p, "RN7", "CT_CHEST", t + 3 * H);
    add(p, "RN7", "CT_CHEST", t + 5 * H); // same trust: repeat
  }
  // An invalid NHS number (wrong check digit) links like a missing one.
  {
    const valid = syntheticNhsNumber(rng);
    const wrong = `${valid.slice(0, 9)}${(Number(valid[9]) + 1) % 10}`;
    const p = { nhs: wrong, ids: Object.fromEntries(TRUSTS.map((t) => [t, "BADNHS01"])) };
    const t = base + 55 * 24 * H;
    add(p, "RVV", "CT_HEAD", t);
    add(p, "RN7", "CT_HEAD", t + H); // not linked: different trusts
  }
  // Planned follow-up inside the window must not warn; a later unplanned exam repeats the follow-up.
  {
    const p = patient(true, n);
    const t = base + 60 * 24 * H;
    add(p, "RPA", "CT_CAP", t);
    add(p, "RVV", "CT_CHEST", t + 6 * H, true);
    add(p, "RWF", "CT_ABDO_PELVIS", t + 12 * H);
  }
  return exams;
}

/** Brute-force truth: repeat uid → prior uid. */
function truth(exams: Exam[]): Map<string, string> {
  const families = loadDefaultRules().rules;
  const out = new Map<string, string>();
  const linked = (a: Exam, b: Exam): boolean => {
    const va = a.nhs !== null && validateNhsNumber(a.nhs).valid;
    const vb = b.nhs !== null && validateNhsNumber(b.nhs).valid;
    if (va && vb) return a.nhs === b.nhs;
    if (va || vb) return false; // an NHS-linked exam and a local-ID-only exam are not joined (README, linkage)
    return a.trust === b.trust && a.patientId === b.patientId;
  };
  for (const e of exams) {
    if (e.planned) continue;
    let best: Exam | null = null;
    for (const p of exams) {
      if (p === e || p.at > e.at || (p.at === e.at && exams.indexOf(p) > exams.indexOf(e))) continue;
      if (!linked(e, p)) continue;
      const ok = families.some((f) => f.exams.includes(e.code) && f.exams.includes(p.code) && e.at - p.at <= f.windowHours * 3_600_000);
      if (ok && (best === null || p.at > best.at)) best = p;
    }
    if (best) out.set(e.uid, best.uid);
  }
  return out;
}

let opened: OpenedDatabase;
let exams: Exam[];

beforeAll(async () => {
  opened = await openTestDatabase();
  exams = scenario();
  // Out-of-order arrival: the second half first, detection in between.
  const half = Math.floor(exams.length / 2);
  const order = [...exams.slice(half), ...exams.slice(0, half)];
  let k = 0;
  for (const e of order) {
    const r = await ingestBytes(opened.db, ctStudy(e).bytes, { source: "import", trustOds: e.trust, name: e.uid, key: TEST_KEY });
    expect(r.outcome).toBe("stored");
    if (++k === half) await detectRepeats(opened.db, TEST_KEY, { batch: 37 });
  }
  await detectRepeats(opened.db, TEST_KEY, { batch: 37 });
}, 180_000);
afterAll(async () => opened?.close());

describe("repeat detection against ground truth", () => {
  it("has precision and recall 1.0 on the rules as defined", async () => {
    const expected = truth(exams);
    const found = new Map((await listRepeats(opened.db, { limit: 10_000 })).map((r) => [r.studyInstanceUid, r.priorStudyInstanceUid]));
    let tp = 0;
    for (const [uid, prior] of found) if (expected.get(uid) === prior) tp++;
    const precision = found.size ? tp / found.size : 1;
    const recall = expected.size ? tp / expected.size : 1;
    console.log(`repeat detection: ${exams.length} exams, ${expected.size} true repeats, ${found.size} detected, precision ${precision.toFixed(3)}, recall ${recall.toFixed(3)}`);
    expect(expected.size).toBeGreaterThanOrEqual(15);
    expect(precision).toBe(1);
    expect(recall).toBe(1);
  });

  it("records the scope of every study and counts rates per trust, exam and month", async () => {
    const scopes = await opened.db.execute(sql`SELECT linkage_scope, count(*)::int AS n FROM study_links GROUP BY 1 ORDER BY 1`);
    const list = (Array.isArray(scopes) ? scopes : (scopes as { rows: unknown[] }).rows) as Array<{ linkage_scope: string; n: number }>;
    expect(list.map((r) => r.linkage_scope).sort()).toEqual(["consortium", "trust"]);
    expect(list.reduce((a, r) => a + Number(r.n), 0)).toBe(exams.length);
    const rates = await repeatRates(opened.db);
    const repeats = rates.reduce((a, r) => a + r.repeats, 0);
    expect(repeats).toBe(truth(exams).size);
    expect(rates.reduce((a, r) => a + r.exams, 0)).toBe(exams.length);
    for (const r of rates) expect(r.rate).toBeCloseTo(r.repeats / r.exams);
    expect(rates.some((r) => r.crossTrustRepeats > 0)).toBe(true);
  });

  it("is idempotent: a second pass finds nothing new", async () => {
    const again = await detectRepeats(opened.db, TEST_KEY);
    expect(again.processed).toBe(0);
  });
});
