/**
 * CDS Hooks cards for "a comparable prior exam exists" (domain.md §6.4 guidance, §7.1 card
 * structure [S33]). Wording follows the AAPM/ACR/HPS 2021 position (domain.md §6.3 [S32],
 * [S32b]): the card says that a comparable exam exists, when, where and where to view it; it is
 * `info` (advisory, never `critical`); it carries no dose figures, no cumulative dose and no
 * advice against imaging.
 */
import { randomUUID } from "node:crypto";
import type { ComparablePrior, PrecheckResponse } from "../repeats/index.ts";

export const OVERRIDE_REASON_SYSTEM = "urn:sievert:cds:override-reason";
export const TOPIC_SYSTEM = "urn:sievert:cds:topic";

/** Coded override reasons (domain.md §6.4: "clinical change", "prior non-diagnostic", "prior not accessible"). */
export const OVERRIDE_REASONS = [
  { system: OVERRIDE_REASON_SYSTEM, code: "clinical-change", display: "Clinical change since the prior exam" },
  { system: OVERRIDE_REASON_SYSTEM, code: "prior-non-diagnostic", display: "Prior exam not diagnostic for this question" },
  { system: OVERRIDE_REASON_SYSTEM, code: "prior-not-accessible", display: "Prior images or report not accessible" },
  { system: OVERRIDE_REASON_SYSTEM, code: "different-question", display: "Different clinical question" },
  { system: OVERRIDE_REASON_SYSTEM, code: "planned-follow-up", display: "Planned follow-up" },
] as const;

export interface Card {
  uuid: string;
  summary: string;
  detail: string;
  indicator: "info";
  source: { label: string; url: string; topic: { system: string; code: string; display: string } };
  links: Array<{ label: string; url: string; type: "absolute" }>;
  overrideReasons: Array<{ system: string; code: string; display: string }>;
  suggestions?: Array<{ label: string; uuid: string; isRecommended?: boolean; actions: Array<{ type: "create"; description: string; resource: Record<string, unknown> }> }>;
  selectionBehavior?: "any" | "at-most-one";
}

export const SUMMARY_MAX = 139; // CDS Hooks: summary "< 140 characters" (domain.md §7.1)

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

export function longDate(iso: string | null): string {
  if (!iso || !/^\d{4}-\d{2}-\d{2}/.test(iso)) return "an unknown date";
  const [y, m, d] = iso.slice(0, 10).split("-").map(Number) as [number, number, number];
  return `${d} ${MONTHS[m - 1]} ${y}`;
}

function interval(hours: number): string {
  if (hours < 48) {
    const h = Math.max(0, Math.round(hours));
    return `${h} hour${h === 1 ? "" : "s"} before this order`;
  }
  return `${Math.round(hours / 24)} days before this order`;
}

function trustLabel(p: ComparablePrior): string {
  const { name, ods } = p.trust;
  if (name && name !== ods) return `${name}${ods ? ` (${ods})` : ""}`;
  return ods ?? "another trust";
}

export function summaryFor(p: ComparablePrior): string {
  const full = `Comparable ${p.exam.name} on ${longDate(p.date)} at ${trustLabel(p)}`;
  if (full.length <= SUMMARY_MAX) return full;
  const short = `Comparable ${p.exam.name} on ${longDate(p.date)} at ${p.trust.ods ?? "another trust"}`;
  return short.length <= SUMMARY_MAX ? short : `${short.slice(0, SUMMARY_MAX - 1)}…`;
}

/** Markdown table-free detail (renders in every EHR that supports GitHub-flavoured Markdown). */
export function detailFor(priors: ComparablePrior[], response: PrecheckResponse, studyLink: (p: ComparablePrior) => string): string {
  const p = priors[0]!;
  const lines = [
    `A comparable **${p.exam.name}** exists for this patient: **${longDate(p.date)}** (${interval(p.intervalHours)}) at **${trustLabel(p)}**.`,
    "",
    `- Where to view it: ${p.imagesHeldAt.viewerUrl ? `[${p.imagesHeldAt.description}](${p.imagesHeldAt.viewerUrl})` : p.imagesHeldAt.description}` +
      `${p.accessionNumber ? `, accession number ${p.accessionNumber}` : ""}; study record: [Sievert](${studyLink(p)}).`,
    `- Why it is shown: same exam family (${p.rule.name}), within the ${p.rule.windowHours}-hour window of the consortium's repeat rule.`,
  ];
  const more = priors.slice(1, 4);
  if (more.length) {
    lines.push(`- Also comparable: ${more.map((m) => `${m.exam.name} on ${longDate(m.date)} at ${trustLabel(m)}`).join("; ")}${priors.length > 4 ? `; and ${priors.length - 4} more` : ""}.`);
  }
  lines.push(
    "",
    "Reviewing the prior images and report may help. This information is advisory: the decision to image rests on clinical grounds.",
    "",
    `_Sievert consortium imaging index (${response.linkage.scope === "consortium" ? "all trusts of the consortium, linked by NHS number pseudonym" : "this trust only"}); checked ${response.checkedAt}._`,
  );
  return lines.join("\n");
}

export interface CardInput {
  response: PrecheckResponse;
  baseUrl: string;
  patientId: string;
  serviceRequestId: string | undefined;
}

/** The card for one draft order, or null when there is nothing comparable (or it is a planned follow-up). */
export function cardFor(input: CardInput): Card | null {
  const { response, baseUrl } = input;
  if (response.status !== "prior-found" || response.excluded !== null || response.priors.length === 0) return null;
  const priors = response.priors;
  const p = priors[0]!;
  const studyLink = (x: ComparablePrior): string => `${baseUrl}/dicomweb/studies?StudyInstanceUID=${encodeURIComponent(x.studyInstanceUid)}&includefield=all`;
  const links: Card["links"] = [{ label: `Prior ${p.exam.name} (${longDate(p.date)}, ${p.trust.ods ?? "trust"}) in Sievert`, url: studyLink(p), type: "absolute" }];
  if (p.imagesHeldAt.viewerUrl) links.push({ label: `Open the images (${p.imagesHeldAt.system} of ${p.trust.ods ?? "the performing trust"})`, url: p.imagesHeldAt.viewerUrl, type: "absolute" });
  const card: Card = {
    uuid: randomUUID(),
    summary: summaryFor(p),
    detail: detailFor(priors, response, studyLink),
    indicator: "info",
    source: {
      label: "Sievert consortium imaging history",
      url: `${baseUrl}/`,
      topic: { system: TOPIC_SYSTEM, code: "comparable-prior-imaging", display: "Comparable prior imaging exists" },
    },
    links,
    overrideReasons: OVERRIDE_REASONS.map((r) => ({ ...r })),
  };
  if (p.trust.ods) {
    // One optional suggestion: ask for the prior images to be shared (never "cancel the order").
    card.suggestions = [
      {
        label: `Request the prior images from ${p.trust.ods}`,
        uuid: randomUUID(),
        actions: [
          {
            type: "create",
            description: `Create a task asking ${trustLabel(p)} to share the images and report of the ${p.exam.name} of ${longDate(p.date)}.`,
            resource: {
              resourceType: "Task",
              status: "requested",
              intent: "order",
              description: `Share the images and report of the ${p.exam.name} of ${longDate(p.date)}${p.accessionNumber ? ` (accession ${p.accessionNumber})` : ""}.`,
              for: { reference: `Patient/${input.patientId}` },
              ...(input.serviceRequestId ? { focus: { reference: `ServiceRequest/${input.serviceRequestId}` } } : {}),
              owner: { identifier: { system: "https://fhir.nhs.uk/Id/ods-organization-code", value: p.trust.ods } },
            },
          },
        ],
      },
    ];
    card.selectionBehavior = "any";
  }
  return card;
}
