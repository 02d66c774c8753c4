/**
 * API tokens: `svt_<publicId>_<secret>`, publicId 8 random bytes and secret 32 random bytes,
 * both base64url. Only the SHA-256 of the whole token is stored: the secret has 256 bits of
 * entropy, so a slow password hash would add cost and no protection. Verification finds the row
 * by publicId and compares digests with timingSafeEqual. Tokens expire (default 90 days) and can
 * be revoked; `last_used_at` is refreshed at most once a minute per token.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { desc, eq } from "drizzle-orm";
import type { SievertDb } from "../db/client.ts";
import { preparedRows } from "../db/prepared.ts";
import { apiTokens } from "../db/schema.ts";
import { isRole, type Role } from "./roles.ts";

export const DEFAULT_TOKEN_DAYS = 90;
const TOKEN_RE = /^svt_([A-Za-z0-9_-]{11})_([A-Za-z0-9_-]{43})$/;
const ODS_RE = /^[A-Z0-9]{3,5}$/;

export class TokenInputError extends Error {
  override name = "TokenInputError";
}

export interface TokenRecord {
  id: number;
  name: string;
  role: Role;
  trusts: string[];
  createdAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

export interface NewToken {
  name: string;
  role: string;
  trusts: string[];
  /** Default: DEFAULT_TOKEN_DAYS from now. */
  expiresAt?: Date;
}

function sha256Hex(value: string): string {
  return createHash("sha256").update(value, "utf8").digest("hex");
}

/** "90d", "12h", "30m", "2w", or an ISO date/time → the expiry instant. */
export function parseExpiry(value: string, now: Date = new Date()): Date {
  const v = value.trim();
  const rel = /^(\d{1,5})([mhdw])$/.exec(v);
  if (rel) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 }[rel[2] as "m" | "h" | "d" | "w"];
    const n = Number(rel[1]);
    if (n === 0) throw new TokenInputError(`expires: "${value}" is zero`);
    return new Date(now.getTime() + n * unit);
  }
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(v)) {
    const d = new Date(v);
    if (Number.isNaN(d.getTime())) throw new TokenInputError(`expires: "${value}" is not a date`);
    if (d.getTime() <= now.getTime()) throw new TokenInputError(`expires: ${d.toISOString()} is in the past`);
    return d;
  }
  throw new TokenInputError(`expires: "${value}" is not a duration (30d, 12h, 2w) or a date (2027-03-31)`);
}

function normaliseTrusts(trusts: string[]): string[] {
  const out = [...new Set(trusts.map((t) => t.trim().toUpperCase()))].sort();
  for (const t of out) if (!ODS_RE.test(t)) throw new TokenInputError(`trust: "${t}" is not an ODS code (3 to 5 letters or digits, e.g. RVV)`);
  return out;
}

/** Creates a token; the returned `token` string is the only time the secret exists outside the caller. */
export async function createToken(db: SievertDb, input: NewToken, now: Date = new Date()): Promise<{ token: string; record: TokenRecord }> {
  const name = input.name.trim();
  if (name === "" || name.length > 200) throw new TokenInputError("name: 1 to 200 characters");
  if (!isRole(input.role)) throw new TokenInputError(`role: "${input.role}" is not one of modality, clinician, physicist, committee, admin`);
  const trusts = normaliseTrusts(input.trusts);
  if (input.role !== "admin" && trusts.length === 0) throw new TokenInputError(`trust: a ${input.role} token needs at least one trust (--trust ODS)`);
  const expiresAt = input.expiresAt ?? new Date(now.getTime() + DEFAULT_TOKEN_DAYS * 86_400_000);
  if (expiresAt.getTime() <= now.getTime()) throw new TokenInputError("expires: must be in the future");
  const publicId = randomBytes(8).toString("base64url");
  const token = `svt_${publicId}_${randomBytes(32).toString("base64url")}`;
  const [row] = await db
    .insert(apiTokens)
    .values({ publicId, tokenSha256: sha256Hex(token), name, role: input.role, trusts, createdAt: now, expiresAt })
    .returning();
  return { token, record: toRecord(row!) };
}

function toRecord(r: typeof apiTokens.$inferSelect): TokenRecord {
  return {
    id: r.id,
    name: r.name,
    role: r.role as Role,
    trusts: r.trusts,
    createdAt: r.createdAt,
    expiresAt: r.expiresAt,
    revokedAt: r.revokedAt,
    lastUsedAt: r.lastUsedAt,
  };
}

export type TokenCheck =
  | { ok: true; record: TokenRecord }
  | { ok: false; reason: "malformed" | "unknown" | "expired" | "revoked" };

/** Per database, token id → when last_used_at was last written by this process. */
const lastTouched = new WeakMap<SievertDb, Map<number, number>>();
const TOUCH_EVERY_MS = 60_000;

/** The token row as verifyToken reads it (a prepared statement: src/db/prepared.ts). */
const TOKEN_BY_PUBLIC_ID_SQL = `SELECT id, public_id AS "publicId", token_sha256 AS "tokenSha256", name, role, trusts, created_at AS "createdAt",
       expires_at AS "expiresAt", revoked_at AS "revokedAt", last_used_at AS "lastUsedAt"
FROM api_tokens WHERE public_id = $1 LIMIT 1`;
type TokenRow = typeof apiTokens.$inferSelect & Record<string, unknown>;

/** Timestamps as drizzle maps its timestamptz columns (a driver may hand them over as text). */
function tokenRow(r: TokenRow): typeof apiTokens.$inferSelect {
  const at = (v: unknown): Date | null => (v === null || v === undefined ? null : (apiTokens.createdAt.mapFromDriverValue(v as string) as Date));
  return { ...r, createdAt: at(r.createdAt)!, expiresAt: at(r.expiresAt)!, revokedAt: at(r.revokedAt), lastUsedAt: at(r.lastUsedAt) };
}

/** Checks a presented token. Unknown and wrong-secret tokens are indistinguishable to the caller. */
export async function verifyToken(db: SievertDb, presented: string, now: Date = new Date()): Promise<TokenCheck> {
  const m = TOKEN_RE.exec(presented.trim());
  if (!m) return { ok: false, reason: "malformed" };
  const [raw] = await preparedRows<TokenRow>(db, TOKEN_BY_PUBLIC_ID_SQL, [m[1]!]); // every authenticated request: one round trip
  const row = raw && tokenRow(raw);
  const expected = Buffer.from(row?.tokenSha256 ?? "0".repeat(64), "hex");
  const given = Buffer.from(sha256Hex(presented.trim()), "hex");
  const same = timingSafeEqual(expected, given);
  if (!row || !same) return { ok: false, reason: "unknown" };
  if (row.revokedAt) return { ok: false, reason: "revoked" };
  if (row.expiresAt.getTime() <= now.getTime()) return { ok: false, reason: "expired" };
  if (!isRole(row.role)) return { ok: false, reason: "unknown" };
  let touched = lastTouched.get(db);
  if (!touched) lastTouched.set(db, (touched = new Map()));
  const last = touched.get(row.id) ?? row.lastUsedAt?.getTime() ?? 0;
  if (now.getTime() - last >= TOUCH_EVERY_MS) {
    touched.set(row.id, now.getTime());
    await db.update(apiTokens).set({ lastUsedAt: now }).where(eq(apiTokens.id, row.id));
  }
  return { ok: true, record: toRecord(row) };
}

/** Every token, newest first; never a secret or digest. */
export async function listTokens(db: SievertDb): Promise<TokenRecord[]> {
  const rows = await db.select().from(apiTokens).orderBy(desc(apiTokens.id));
  return rows.map(toRecord);
}

/** Revokes a token at once (the next request with it gets 401). False when there is no such token. */
export async function revokeToken(db: SievertDb, id: number, now: Date = new Date()): Promise<TokenRecord | null> {
  const [row] = await db.select().from(apiTokens).where(eq(apiTokens.id, id)).limit(1);
  if (!row) return null;
  if (row.revokedAt) return toRecord(row);
  const [updated] = await db.update(apiTokens).set({ revokedAt: now }).where(eq(apiTokens.id, id)).returning();
  return toRecord(updated!);
}

export function tokenStatus(t: TokenRecord, now: Date = new Date()): "active" | "expired" | "revoked" {
  if (t.revokedAt) return "revoked";
  return t.expiresAt.getTime() <= now.getTime() ? "expired" : "active";
}
