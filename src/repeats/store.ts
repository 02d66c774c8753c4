/**
 * Rules in force for a database: the shipped defaults with the consortium's overrides.
 */
import type { SievertDb } from "../db/client.ts";
import { applyOverrides, type RuleOverride, type RuleSet } from "./rules.ts";

const RULES_TTL_MS = 5_000;
const cache = new WeakMap<SievertDb, { rules: RuleSet; at: number }>();

export async function loadOverrides(_db: SievertDb): Promise<RuleOverride[]> {
  return [];
}

/** The rules in force (overrides re-read at most every 5 s; `fresh` forces a read). */
export async function rulesFor(db: SievertDb, options: { fresh?: boolean } = {}): Promise<RuleSet> {
  const c = cache.get(db);
  if (c && !options.fresh && Date.now() - c.at < RULES_TTL_MS) return c.rules;
  const rules = applyOverrides(await loadOverrides(db));
  cache.set(db, { rules, at: Date.now() });
  return rules;
}

export function forgetRules(db: SievertDb): void {
  cache.delete(db);
}
