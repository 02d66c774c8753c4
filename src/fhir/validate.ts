/**
 * A small structural validator for Sievert's FHIR output: the required elements, prohibited
 * elements, fixed codes and slices of each claimed profile, kept as data in
 * data/profile-rules.json (each profile with its canonical URL and the FSH source it was read
 * from). It is not a full FHIR validator (no terminology, invariants or type checks): it checks
 * what the IG says an instance must carry. Also: that every reference in a Bundle resolves to
 * an entry of the Bundle (or a contained resource).
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import type { FhirResource, Json } from "./types.ts";

const RuleSchema = z.object({
  path: z.string(),
  each: z.string().optional(),
  if: z.string().optional(),
  min: z.number().int().nonnegative().optional(),
  max: z.number().int().nonnegative().optional(),
  pattern: z.unknown().optional(),
  equals: z.unknown().optional(),
  refType: z.string().optional(),
  only: z.array(z.string()).optional(),
  note: z.string().optional(),
});
type Rule = z.infer<typeof RuleSchema>;

const SliceSchema = z.object({
  name: z.string(),
  path: z.string(),
  match: z.unknown(),
  min: z.number().int().nonnegative().optional(),
  max: z.number().int().nonnegative().optional(),
  closed: z.boolean().optional(),
  elements: z.array(RuleSchema),
});

const ProfileSchema = z.object({
  name: z.string(),
  url: z.string(),
  resourceType: z.string(),
  claim: z.boolean(),
  source: z.string(),
  elements: z.array(RuleSchema),
  slices: z.array(SliceSchema),
});
export type ProfileRules = z.infer<typeof ProfileSchema>;

let profiles: ProfileRules[] | null = null;
/** The rule table (data/profile-rules.json), validated at first use. */
export function profileRules(): ProfileRules[] {
  profiles ??= z
    .object({ comment: z.string(), profiles: z.array(ProfileSchema) })
    .parse(JSON.parse(readFileSync(new URL("./data/profile-rules.json", import.meta.url), "utf8"))).profiles;
  return profiles;
}

export interface Violation {
  /** Canonical URL of the profile whose rule failed. */
  profile: string;
  /** Resource type and id, then the element path (slice in brackets). */
  where: string;
  message: string;
}

type Node = Json | undefined;

function isObject(v: Node): v is { [k: string]: Json | undefined } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Values at a dotted path, arrays flattened; a primitive present only as `_name` counts. */
export function valuesAt(node: Node, path: string): Json[] {
  let current: Json[] = node === undefined ? [] : [node];
  for (const step of path.split(".").filter(Boolean)) {
    const next: Json[] = [];
    for (const v of current) {
      if (!isObject(v)) continue;
      const child = v[step] ?? v[`_${step}`];
      if (child === undefined || child === null) continue;
      if (Array.isArray(child)) next.push(...child);
      else next.push(child);
    }
    current = next;
  }
  return current;
}

/** FHIR pattern semantics: objects by subset, arrays by "each pattern item matches some item". */
export function matchesPattern(value: Node, pattern: unknown): boolean {
  if (Array.isArray(pattern)) {
    const items = Array.isArray(value) ? value : value === undefined ? [] : [value];
    return pattern.every((p) => items.some((i) => matchesPattern(i, p)));
  }
  if (typeof pattern === "object" && pattern !== null) {
    if (!isObject(value)) return false;
    return Object.entries(pattern as Record<string, unknown>).every(([k, p]) => matchesPattern(value[k], p));
  }
  return value === pattern;
}

function refersTo(value: Json, type: string, root: FhirResource): boolean {
  if (!isObject(value)) return false;
  if (value.type === type) return true;
  const ref = typeof value.reference === "string" ? value.reference : null;
  if (ref === null) return false;
  if (ref.startsWith("#")) {
    const contained = Array.isArray(root.contained) ? root.contained : [];
    return contained.some((c) => isObject(c) && c.id === ref.slice(1) && c.resourceType === type);
  }
  return new RegExp(`(^|/)${type}/[^/]+$`).test(ref);
}

function checkRule(rule: Rule, node: Json, root: FhirResource, where: string, profile: string, out: Violation[]): void {
  const items = rule.each ? valuesAt(node, rule.each) : [node];
  items.forEach((item, i) => {
    const at = rule.each ? `${where}${rule.each}[${i}].` : where;
    if (rule.if !== undefined && valuesAt(item, rule.if).length === 0) return;
    const label = `${at}${rule.path}`;
    if (rule.path.endsWith("[x]")) {
      const stem = rule.path.slice(0, -3);
      const forms = isObject(item) ? Object.keys(item).filter((k) => new RegExp(`^_?${stem}[A-Z]`).test(k)).map((k) => k.replace(/^_/, "")) : [];
      const present = [...new Set(forms)];
      const bad = present.filter((f) => rule.only && !rule.only.includes(f));
      if (bad.length > 0) out.push({ profile, where: label, message: `only ${rule.only!.join(", ")} allowed, found ${bad.join(", ")}` });
      if (rule.min !== undefined && present.length < rule.min) out.push({ profile, where: label, message: `required (min ${rule.min}), absent` });
      return;
    }
    const values = valuesAt(item, rule.path);
    if (rule.min !== undefined && values.length < rule.min) {
      out.push({ profile, where: label, message: `required (min ${rule.min}), found ${values.length}` });
    }
    if (rule.max !== undefined && values.length > rule.max) {
      out.push({ profile, where: label, message: `at most ${rule.max} allowed, found ${values.length}` });
    }
    for (const v of values) {
      if (rule.pattern !== undefined && !matchesPattern(v, rule.pattern)) {
        out.push({ profile, where: label, message: `does not match the fixed pattern ${JSON.stringify(rule.pattern)}` });
      }
      if (rule.equals !== undefined && v !== rule.equals) {
        out.push({ profile, where: label, message: `must be ${JSON.stringify(rule.equals)}, is ${JSON.stringify(v)}` });
      }
      if (rule.refType !== undefined && !refersTo(v, rule.refType, root)) {
        out.push({ profile, where: label, message: `must be a Reference(${rule.refType})` });
      }
    }
  });
}

/** Checks one resource against one profile's rules. */
export function validateAgainst(resource: FhirResource, p: ProfileRules): Violation[] {
  const out: Violation[] = [];
  const where = `${resource.resourceType}/${resource.id ?? "(no id)"} `;
  if (resource.resourceType !== p.resourceType) {
    return [{ profile: p.url, where, message: `resourceType must be ${p.resourceType}, is ${resource.resourceType}` }];
  }
  if (p.claim && !valuesAt(resource, "meta.profile").includes(p.url)) {
    out.push({ profile: p.url, where: `${where}meta.profile`, message: `must claim ${p.url}` });
  }
  for (const rule of p.elements) checkRule(rule, resource, resource, where, p.url, out);
  for (const slice of p.slices) {
    const all = valuesAt(resource, slice.path);
    const matched = all.filter((v) => matchesPattern(v, slice.match));
    const label = `${where}${slice.path}[${slice.name}]`;
    if (slice.min !== undefined && matched.length < slice.min) out.push({ profile: p.url, where: label, message: `slice required (min ${slice.min}), found ${matched.length}` });
    if (slice.max !== undefined && matched.length > slice.max) out.push({ profile: p.url, where: label, message: `slice allows at most ${slice.max}, found ${matched.length}` });
    if (slice.closed && matched.length < all.length) out.push({ profile: p.url, where: label, message: `closed slicing: ${all.length - matched.length} element(s) match no slice` });
    matched.forEach((m, i) => {
      for (const rule of slice.elements) checkRule(rule, m, resource, `${label}[${i}].`, p.url, out);
    });
  }
  return out;
}

/**
 * Checks a resource against every profile it claims in meta.profile, and against the base rules
 * of its type in the table. A claimed profile the table does not know is itself a violation.
 */
export function validateResource(resource: FhirResource): Violation[] {
  const table = profileRules();
  const claimed = valuesAt(resource, "meta.profile").filter((v): v is string => typeof v === "string");
  const out: Violation[] = [];
  for (const url of claimed) {
    const p = table.find((t) => t.url === url);
    if (!p) out.push({ profile: url, where: `${resource.resourceType}/${resource.id ?? ""}`, message: "claims a profile the rule table does not know" });
    else out.push(...validateAgainst(resource, p));
  }
  for (const p of table.filter((t) => !t.claim && t.resourceType === resource.resourceType)) out.push(...validateAgainst(resource, p));
  return out;
}

/** Every resource of a Bundle (and the Bundle itself), plus unresolved references. */
export function validateBundle(bundle: FhirResource): Violation[] {
  const out = validateResource(bundle);
  const entries = valuesAt(bundle, "entry").filter(isObject);
  const fullUrls = new Set(entries.map((e) => e.fullUrl).filter((u): u is string => typeof u === "string"));
  for (const e of entries) {
    const resource = e.resource;
    if (!isObject(resource) || typeof resource.resourceType !== "string") continue;
    const res = resource as FhirResource;
    out.push(...validateResource(res));
    const base = typeof e.fullUrl === "string" ? e.fullUrl.replace(/[^/]+\/[^/]+$/, "") : "";
    for (const ref of referencesIn(res)) {
      if (ref.startsWith("#")) {
        const contained = Array.isArray(res.contained) ? res.contained : [];
        if (!contained.some((c) => isObject(c) && c.id === ref.slice(1))) {
          out.push({ profile: "Bundle references", where: `${res.resourceType}/${res.id ?? ""}`, message: `contained reference ${ref} does not resolve` });
        }
        continue;
      }
      const absolute = /^[a-z]+:/.test(ref) ? ref : `${base}${ref}`;
      if (!fullUrls.has(absolute)) {
        out.push({ profile: "Bundle references", where: `${res.resourceType}/${res.id ?? ""}`, message: `reference ${ref} does not resolve inside the Bundle` });
      }
    }
  }
  return out;
}

/** Literal references (Reference.reference) anywhere in a resource. */
export function referencesIn(node: Node): string[] {
  const out: string[] = [];
  const walk = (v: Node, key: string | null): void => {
    if (Array.isArray(v)) v.forEach((x) => walk(x, key));
    else if (isObject(v)) for (const [k, x] of Object.entries(v)) walk(x, k);
    else if (key === "reference" && typeof v === "string") out.push(v);
  };
  walk(node, null);
  return out;
}
