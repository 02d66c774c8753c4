/** Roles → permissions, read from data/roles.json (the data is the definition; this file types it). */
import { readFileSync } from "node:fs";

export const ROLES = ["modality", "clinician", "physicist", "committee", "admin"] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = ["objects.write", "precheck", "aggregates.read", "patient.read", "fhir.read", "alerts.ack", "config.write", "audit.read", "identifiers.read"] as const;
export type Permission = (typeof PERMISSIONS)[number];

interface RoleSpec {
  description: string;
  permissions: Permission[];
  /** Acts for every trust (admin). */
  allTrusts?: boolean;
}

interface RolesFile {
  permissions: Record<Permission, string>;
  roles: Record<Role, RoleSpec>;
}

function load(): RolesFile {
  const data = JSON.parse(readFileSync(new URL("./data/roles.json", import.meta.url), "utf8")) as RolesFile;
  for (const role of ROLES) {
    const spec = data.roles[role];
    if (!spec) throw new Error(`src/auth/data/roles.json: role ${role} is missing`);
    for (const p of spec.permissions) {
      if (!(PERMISSIONS as readonly string[]).includes(p)) throw new Error(`src/auth/data/roles.json: role ${role} has unknown permission ${p}`);
    }
  }
  return data;
}

const FILE = load();

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

export function roleAllows(role: Role, permission: Permission): boolean {
  return FILE.roles[role].permissions.includes(permission);
}

/** True for roles that act for every trust (admin); others only for their token's trusts. */
export function roleSpansAllTrusts(role: Role): boolean {
  return FILE.roles[role].allTrusts === true;
}

export function roleDescription(role: Role): string {
  return FILE.roles[role].description;
}
