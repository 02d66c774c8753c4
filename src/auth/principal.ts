/**
 * Who is asking: the principal of the current request, carried in an AsyncLocalStorage so that
 * (1) routes can filter by the token's trusts (currentTrustScope) without new parameters, and
 * (2) the pages' in-process reads of the API (web/source.ts, report/build.ts: app.request) act
 * as the same principal, checked against the same access table, instead of being anonymous.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { roleAllows, type Role } from "./roles.ts";

export interface Principal {
  /** null in open mode. */
  tokenId: number | null;
  /** The token's name, or "open-mode". */
  name: string;
  role: Role;
  /** The token's trusts (ODS codes). */
  trusts: string[];
  /** True for admin and open mode: every trust. */
  allTrusts: boolean;
}

export const OPEN_PRINCIPAL: Principal = Object.freeze({ tokenId: null, name: "open-mode", role: "admin", trusts: [], allTrusts: true }) as Principal;

const storage = new AsyncLocalStorage<Principal>();

export function runAs<T>(principal: Principal, fn: () => T): T {
  return storage.run(principal, fn);
}

/** The principal of the request being served (inherited by in-process sub-requests), or undefined. */
export function currentPrincipal(): Principal | undefined {
  return storage.getStore();
}

/**
 * The trusts whose patient-level rows the current request may see: null means every trust
 * (admin, open mode, or code running outside a request such as the CLI).
 */
export function currentTrustScope(): string[] | null {
  const p = storage.getStore();
  if (!p || p.allTrusts) return null;
  return p.trusts;
}

export function mayActFor(p: Principal, trust: string | null | undefined): boolean {
  if (p.allTrusts) return true;
  return trust !== null && trust !== undefined && p.trusts.includes(trust.toUpperCase());
}

/**
 * May the current request see patient identifiers (FHIR Patient.identifier)? Only a signed-in
 * token whose role holds `identifiers.read`; never open mode, never code outside a request.
 */
export function mayRevealIdentifiers(): boolean {
  const p = storage.getStore();
  return p !== undefined && p.tokenId !== null && roleAllows(p.role, "identifiers.read");
}
