/**
 * `sievert rekey --new-key K`: key rotation without plaintext identifiers and without losing links.
 *
 * Pseudonyms form a key-versioned chain (pseudonym.ts): after rotation to K every stored value p
 * becomes HMAC(K, p), which is exactly what new objects get through the chain (old keys…, K).
 * So the job needs no identifier and no raw bytes: it maps every distinct stored pseudonym value
 * (every text column named `patient_pseudonym` in the schema, plus study_links.link_key) in one
 * transaction, with studies locked against concurrent ingest, and records the new chain's
 * fingerprint in pseudonym_keys. Processes must then run with SIEVERT_PSEUDONYM_KEY=K and
 * SIEVERT_PSEUDONYM_KEY_PREVIOUS=<older keys, oldest first> (embedded mode: the key file gets K
 * appended); the repeat detector refuses a stale chain (detector.ts checkKey).
 */
import { sql } from "drizzle-orm";
import type { SievertDb } from "../db/client.ts";
import { chainOf, chainStep, keyChain, keyFingerprint } from "./pseudonym.ts";

export interface RekeyResult {
  version: number;
  fingerprint: string;
  /** Distinct pseudonym values re-keyed. */
  values: number;
  /** Rows updated per table.column. */
  rows: Record<string, number>;
  /** The new chain (pass it wherever the key is used from now on). */
  key: Buffer;
}

export class RekeyError extends Error {
  override name = "RekeyError";
}

type Rows = Array<Record<string, unknown>>;

async function q(db: SievertDb, query: ReturnType<typeof sql>): Promise<Rows> {
  const res: unknown = await db.execute(query);
  return (Array.isArray(res) ? res : (res as { rows: Rows }).rows) as Rows;
}

/** Every pseudonym column of the current schema (search_path), e.g. studies.patient_pseudonym, alerts.patient_pseudonym. */
async function pseudonymColumns(db: SievertDb): Promise<Array<{ table: string; column: string }>> {
  const r = await q(
    db,
    sql`SELECT table_name, column_name FROM information_schema.columns
        WHERE table_schema = current_schema() AND data_type = 'text'
          AND (column_name = 'patient_pseudonym' OR (table_name = 'study_links' AND column_name = 'link_key'))
        ORDER BY table_name, column_name`,
  );
  return r.map((x) => ({ table: String(x.table_name), column: String(x.column_name) }));
}

const ident = (s: string): string => `"${s.replaceAll('"', '""')}"`;

export async function rekey(db: SievertDb, currentKey: Uint8Array, newKey: Uint8Array, options: { batch?: number } = {}): Promise<RekeyResult> {
  const chain = chainOf(currentKey);
  if (chain.some((k) => Buffer.compare(Buffer.from(k), Buffer.from(newKey)) === 0)) throw new RekeyError("the new key is already in the chain");
  const next = keyChain([...chain, newKey]);
  const fpOld = keyFingerprint(currentKey);
  const fpNew = keyFingerprint(next);
  const batch = options.batch ?? 5000;

  return db.transaction(async (tx) => {
    const latest = await q(tx, sql`SELECT version, fingerprint FROM pseudonym_keys ORDER BY version DESC LIMIT 1`);
    let version = 1;
    if (latest.length === 0) {
      await tx.execute(sql`INSERT INTO pseudonym_keys (version, fingerprint) VALUES (1, ${fpOld})`);
    } else {
      version = Number(latest[0]!.version);
      if (latest[0]!.fingerprint !== fpOld) {
        throw new RekeyError(`the key chain in use (fingerprint ${fpOld}) is not the database's current one (version ${version}, ${String(latest[0]!.fingerprint)}); nothing changed`);
      }
    }
    // No object may be stored with the old chain while values move (ingest waits, then must restart with the new chain).
    await tx.execute(sql`LOCK TABLE studies IN SHARE ROW EXCLUSIVE MODE`);
    const columns = await pseudonymColumns(tx);
    await tx.execute(sql`CREATE TEMP TABLE rekey_map (old text PRIMARY KEY, new text NOT NULL) ON COMMIT DROP`);
    const union = sql.raw(columns.map((c) => `SELECT ${ident(c.column)} AS v FROM ${ident(c.table)} WHERE ${ident(c.column)} IS NOT NULL`).join(" UNION "));
    const distinct = await q(tx, sql`SELECT v FROM (${union}) u`);
    let values = 0;
    for (let i = 0; i < distinct.length; i += batch) {
      const chunk = distinct.slice(i, i + batch).map((r) => String(r.v));
      const olds = chunk;
      const news = chunk.map((p) => chainStep(newKey, p));
      await tx.execute(sql`INSERT INTO rekey_map (old, new) SELECT * FROM unnest(${sql.param(olds)}::text[], ${sql.param(news)}::text[])`);
      values += chunk.length;
    }
    const rows: Record<string, number> = {};
    for (const c of columns) {
      const r = await q(tx, sql.raw(`WITH u AS (UPDATE ${ident(c.table)} t SET ${ident(c.column)} = m.new FROM rekey_map m WHERE t.${ident(c.column)} = m.old RETURNING 1) SELECT count(*)::int AS n FROM u`));
      rows[`${c.table}.${c.column}`] = Number(r[0]?.n ?? 0);
    }
    await tx.execute(sql`INSERT INTO pseudonym_keys (version, fingerprint, rekeyed_values) VALUES (${version + 1}, ${fpNew}, ${values})`);
    return { version: version + 1, fingerprint: fpNew, values, rows, key: next };
  });
}
