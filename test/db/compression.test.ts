/**
 * sql/0010_lz4_compression.sql: an object's bytes, report and event JSON are stored LZ4-compressed
 * where the server has LZ4 (a Postgres server built with it), pglz where it has not (PGlite), and
 * read back unchanged either way.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OpenedDatabase } from "../../src/db/client.ts";
import { preparedRows } from "../../src/db/prepared.ts";
import { ingestBytes } from "../../src/ingest/index.ts";
import { openTestDatabase, resetTestDatabase, TEST_KEY } from "../helpers/db.ts";

const CT_DIR = new URL("../../sample-rdsr/RVV/CT/", import.meta.url).pathname;

let opened: OpenedDatabase;
beforeAll(async () => {
  opened = await openTestDatabase();
  await resetTestDatabase(opened.db);
});
afterAll(async () => {
  await opened?.close();
});

describe("compression of stored objects", () => {
  it("uses LZ4 where the server has it, else pglz, and returns the bytes as received", async () => {
    const db = opened.db;
    const file = readdirSync(CT_DIR).filter((n) => n.endsWith(".dcm")).sort()[0]!;
    const bytes = readFileSync(join(CT_DIR, file));
    expect(bytes.length).toBeGreaterThan(4096); // large enough to be compressed (rows over 2 KB are)
    const stored = await ingestBytes(db, bytes, { source: "import", trustOds: "RVV", name: file, key: TEST_KEY });
    expect(stored.outcome).toBe("stored");

    const [lz4] = await preparedRows<{ has: boolean }>(db, "SELECT coalesce(bool_or(v = 'lz4'), false) AS has FROM pg_settings, unnest(enumvals) v WHERE name = 'default_toast_compression'", []);
    const expected = lz4!.has ? "lz4" : "pglz";
    const [row] = await preparedRows<{ bytes: string | null; report: string | null; raw: Uint8Array }>(
      db,
      "SELECT pg_column_compression(raw_bytes) AS bytes, pg_column_compression(report) AS report, raw_bytes AS raw FROM dose_objects WHERE id = $1",
      [stored.objectId],
    );
    expect(row!.bytes).toBe(expected);
    expect(Buffer.from(row!.raw).equals(bytes)).toBe(true);
    // the report is compressed only when it is large; when it is, with the same method
    if (row!.report !== null) expect(row!.report).toBe(expected);
    if (process.env.DATABASE_URL) expect(expected).toBe("lz4"); // the project's Postgres server (Debian's build) has LZ4
  });
});
