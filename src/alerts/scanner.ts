/**
 * Raising alerts after commit.
 *
 * Hook point: a database trigger (sql/0004_alert_queue_trigger.sql) adds one `alert_queue` row
 * per dose object inside the ingest transaction, and this module consumes the queue after
 * commit. Why not an `afterStored()` call in each caller: API, CLI import, DIMSE, STOW-RS and
 * backfill would each need it (five call sites owned by others), and a crash between commit and
 * the call would lose the alert. Why not a high-water mark on dose_objects.id: ids are taken
 * before commit, so with concurrent ingest a lower id can commit after a higher one has been
 * scanned and would be skipped. The queue row commits atomically with the object, costs ingest
 * one small insert, and is deleted in the same transaction that writes the object's alerts,
 * so an object is checked exactly once even with several scanners (`FOR UPDATE SKIP LOCKED`)
 * and even if the scanning process dies midway (its transaction rolls back, the rows stay).
 *
 * The queue is drained by: a debounced scan after an upload through the HTTP API, a periodic
 * scan in `sievert serve` (SIEVERT_ALERT_SCAN_MS, default 5 s; this also picks up objects that
 * another process stored: `sievert import`, `sievert listen`, backfill), `GET /api/v1/alerts`
 * (drains before listing) and `sievert alerts scan`.
 */
import { and, asc, eq, gte, inArray, lte } from "drizzle-orm";
import type { Logger } from "pino";
import type { SievertDb } from "../db/client.ts";
import { alertQueue, alerts } from "../db/alerts-schema.ts";
import { doseObjects, studies } from "../db/schema.ts";
import type { DoseReport } from "../dicom/dose-report.ts";
import { loadReferenceData } from "../analytics/reference-data.ts";
import { defaultRules, ExamMapper, loadUserRules } from "../analytics/mapping.ts";
import { evaluateObject, fmt, type AlertCandidate, type ObjectContext } from "./evaluate.ts";
import { loadThresholds, type Thresholds } from "./thresholds.ts";

export interface ScanOptions {
  /** Objects per transaction (default 200). */
  batchSize?: number;
  /** Stop after this many objects (default: until the queue is empty). */
  maxObjects?: number;
  thresholds?: Thresholds;
  /** A webhook is configured: new alerts start in webhook state `pending` (else `none`). */
  webhookEnabled?: boolean;
  logger?: Logger;
}

export interface ScanResult {
  checked: number;
  raised: number;
  alertIds: number[];
}

function addDays(isoDate: string, days: number): string {
  const d = new Date(`${isoDate}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

type Tx = Parameters<Parameters<SievertDb["transaction"]>[0]>[0];

/** Accumulated fluoroscopy totals of the patient over the look-back window ending at the study date. */
async function accumulated(tx: Tx, ctx: ObjectContext, pseudonym: string, t: Thresholds, batch: Iterable<AlertCandidate>): Promise<AlertCandidate[]> {
  const acc = t.accumulation;
  const modality = ctx.modality ?? ctx.report.modality;
  if (!ctx.studyDate || !modality || !acc.modalities.includes(modality)) return [];
  const from = addDays(ctx.studyDate, -acc.lookBackDays);
  const rows = await tx
    .select({ studyId: studies.id, trustOds: studies.trustOds, report: doseObjects.report })
    .from(studies)
    .innerJoin(doseObjects, eq(doseObjects.studyId, studies.id))
    .where(
      and(
        eq(studies.patientPseudonym, pseudonym),
        gte(studies.studyDate, from),
        lte(studies.studyDate, ctx.studyDate),
        inArray(doseObjects.modality, acc.modalities),
      ),
    );
  // Per study the largest total any of its objects states (a "continued" RDSR restates earlier totals).
  const perStudy = new Map<number, { trust: string | null; totals: Record<string, number> }>();
  for (const r of rows) {
    const s = perStudy.get(r.studyId) ?? { trust: r.trustOds, totals: {} };
    for (const q of acc.quantities) {
      const v = (r.report as DoseReport).totals[q.quantity];
      if (typeof v === "number" && Number.isFinite(v)) s.totals[q.quantity] = Math.max(s.totals[q.quantity] ?? 0, v);
    }
    perStudy.set(r.studyId, s);
  }
  if (perStudy.size < acc.minStudies) return [];
  const trusts = [...new Set([...perStudy.values()].map((s) => s.trust ?? "unknown trust"))].sort();
  const out: AlertCandidate[] = [];
  for (const q of acc.quantities) {
    const sum = [...perStudy.values()].reduce((a, s) => a + (s.totals[q.quantity] ?? 0), 0);
    if (sum < q.value) continue;
    const rule = `${acc.id}.${q.quantity}`;
    const already = await tx
      .select({ id: alerts.id })
      .from(alerts)
      .where(and(eq(alerts.patientPseudonym, pseudonym), eq(alerts.rule, rule), gte(alerts.studyDate, from), lte(alerts.studyDate, ctx.studyDate)))
      .limit(1);
    const inBatch = [...batch].some((c) => c.patientPseudonym === pseudonym && c.rule === rule && c.studyDate !== null && c.studyDate >= from && c.studyDate <= ctx.studyDate!);
    if (already.length > 0 || inBatch) continue; // one accumulated alert per patient, quantity and look-back window
    out.push({
      dedupeKey: `patient:${pseudonym}:${rule}:${ctx.studyId ?? `object-${ctx.doseObjectId}`}`,
      rule,
      scope: "patient-period",
      level: q.level,
      quantity: q.quantity,
      unit: q.unit,
      value: sum,
      threshold: q.value,
      thresholdSource: `${q.source}; look-back ${acc.lookBackDays} days: ${acc.lookBackSource}`,
      thresholdVerified: q.verified,
      message:
        `${acc.title}: ${fmt(sum)} ${q.unit} over ${perStudy.size} ${acc.modalities.join("/")} studies in the ${acc.lookBackDays} days to ${ctx.studyDate}` +
        ` (trusts ${trusts.join(", ")}) reached the ${q.level} level ${fmt(q.value)} ${q.unit}${q.verified ? "" : " (threshold UNVERIFIED: to be confirmed by the MPE)"}.`,
      doseObjectId: ctx.doseObjectId,
      studyId: ctx.studyId,
      irradiationEventUid: null,
      trustOds: ctx.trustOds,
      modality,
      studyDate: ctx.studyDate,
      examCode: ctx.examCode,
      patientPseudonym: pseudonym,
    });
  }
  return out;
}

/**
 * Drains the alert queue: checks each queued object against the thresholds and stores the
 * alerts it raises, one transaction per batch (queue rows are deleted in that transaction).
 */
export async function processAlertQueue(db: SievertDb, options: ScanOptions = {}): Promise<ScanResult> {
  const t = options.thresholds ?? loadThresholds();
  const ref = loadReferenceData();
  const batchSize = options.batchSize ?? 200;
  const result: ScanResult = { checked: 0, raised: 0, alertIds: [] };
  let mapper: ExamMapper | null = null;
  const localisers = new Set(ref.settings.ctLocaliserAcquisitionTypes.map((s) => s.toLowerCase()));

  for (;;) {
    const limit = Math.min(batchSize, (options.maxObjects ?? Infinity) - result.checked);
    if (limit <= 0) break;
    const batch = await db.transaction(async (tx) => {
      const queued = await tx
        .select({ id: alertQueue.id, doseObjectId: alertQueue.doseObjectId })
        .from(alertQueue)
        .orderBy(asc(alertQueue.id))
        .limit(limit)
        .for("update", { skipLocked: true });
      if (queued.length === 0) return { checked: 0, inserted: [] as Array<{ id: number; rule: string; level: string; trustOds: string | null }> };
      const ids = [...new Set(queued.map((q) => q.doseObjectId))];
      const objects = await tx
        .select({
          id: doseObjects.id,
          studyId: doseObjects.studyId,
          trustOds: doseObjects.trustOds,
          modality: doseObjects.modality,
          deviceId: doseObjects.deviceId,
          report: doseObjects.report,
          studyDate: studies.studyDate,
          pseudonym: studies.patientPseudonym,
          ageYears: studies.patientAgeYears,
          description: studies.description,
        })
        .from(doseObjects)
        .leftJoin(studies, eq(studies.id, doseObjects.studyId))
        .where(inArray(doseObjects.id, ids))
        .orderBy(asc(doseObjects.id));

      const candidates = new Map<string, AlertCandidate>();
      for (const o of objects) {
        const report = o.report as DoseReport;
        const modality = o.modality ?? report.modality;
        let examCode: string | null = null;
        if (modality === "CT") {
          mapper ??= new ExamMapper([...(await loadUserRules(tx)), ...defaultRules(ref.defaultRules)]);
          examCode =
            mapper.map({
              trustOds: o.trustOds,
              deviceId: o.deviceId,
              modality,
              description: report.studyDescription ?? o.description,
              protocols: report.events
                .filter((e) => !(e.acquisitionType && localisers.has(e.acquisitionType.toLowerCase())))
                .map((e) => e.protocol)
                .filter((p): p is string => !!p),
            })?.examCode ?? null;
        }
        const ctx: ObjectContext = {
          doseObjectId: o.id,
          studyId: o.studyId,
          trustOds: o.trustOds,
          modality,
          studyDate: o.studyDate ?? report.studyDate,
          patientAgeYears: o.ageYears ?? report.patient.ageYears,
          examCode,
          report,
        };
        for (const c of evaluateObject(ctx, t, ref)) if (!candidates.has(c.dedupeKey)) candidates.set(c.dedupeKey, c);
        if (o.pseudonym) {
          for (const c of await accumulated(tx, ctx, o.pseudonym, t, candidates.values())) if (!candidates.has(c.dedupeKey)) candidates.set(c.dedupeKey, c);
        }
      }
      let inserted: Array<{ id: number; rule: string; level: string; trustOds: string | null }> = [];
      if (candidates.size > 0) {
        const now = new Date();
        inserted = await tx
          .insert(alerts)
          .values(
            [...candidates.values()].map((c) => ({
              ...c,
              webhookState: options.webhookEnabled ? "pending" : "none",
              webhookNextAt: options.webhookEnabled ? now : null,
              createdAt: now,
            })),
          )
          .onConflictDoNothing({ target: alerts.dedupeKey })
          .returning({ id: alerts.id, rule: alerts.rule, level: alerts.level, trustOds: alerts.trustOds });
      }
      await tx.delete(alertQueue).where(inArray(alertQueue.id, queued.map((q) => q.id)));
      return { checked: queued.length, inserted };
    });
    if (batch.checked === 0) break;
    result.checked += batch.checked;
    result.raised += batch.inserted.length;
    for (const a of batch.inserted) {
      result.alertIds.push(a.id);
      options.logger?.warn({ alertId: a.id, rule: a.rule, level: a.level, trust: a.trustOds }, "high-dose alert raised");
    }
  }
  return result;
}
