/**
 * No plaintext NHS number reaches the database (every text, varchar, json and jsonb column of
 * every table) or the logs (pino output captured at trace level) through ingest, repeat
 * detection, the precheck API (valid and invalid numbers) and the repeats API.
 */
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pino from "pino";
import { sql } from "drizzle-orm";
import { createApp } from "../../src/api/app.ts";
import type { OpenedDatabase } from "../../src/db/client.ts";
import { detectRepeats } from "../../src/repeats/index.ts";
import { openTestDatabase, TEST_KEY } from "../helpers/db.ts";
import { ctStudy } from "./fixtures.ts";

const NHS = ["9434765919", "4010232137"];
const FORMS = NHS.flatMap((n) => [n, `${n.slice(0, 3)} ${n.slice(3, 6)} ${n.slice(6)}`, `${n.slice(0, 3)}-${n.slice(3, 6)}-${n.slice(6)}`]);
let opened: OpenedDatabase;
let logs = "";

beforeAll(async () => {
  opened = await openTestDatabase();
});
afterAll(async () => opened?.close());

describe("no plaintext NHS number in the database or the logs", () => {
  it("holds after ingest, detection, precheck and the repeats API", async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        logs += chunk.toString("utf8");
        cb();
      },
    });
    const logger = pino({ level: "trace" }, sink);
    const app = createApp({ db: opened.db, key: TEST_KEY, maxObjectBytes: 64 << 20, logger });
    let k = 0;
    const uploads: Array<[string, string, string]> = [[NHS[0]!, "RVV", "08:00"], [NHS[0]!, "RPA", "12:00"], [NHS[1]!, "RN7", "09:00"]];
    for (const [nhs, trust, time] of uploads) {
      const { bytes } = ctStudy({ nhs, patientId: `MRN${k++}`, trust, description: "CT Head", date: "2024-06-01", time });
      const r = await app.request(`/api/v1/objects?trust=${trust}`, { method: "POST", headers: { "content-type": "application/dicom" }, body: bytes });
      expect(r.status).toBe(201);
    }
    await detectRepeats(opened.db, TEST_KEY);
    for (const nhsNumber of [FORMS[1]!, "9434765918"]) {
      const r = await app.request("/api/v1/precheck", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ patient: { nhsNumber }, requestingTrust: "RWF", exam: { text: "CT head" }, at: "2024-06-01T18:00:00" }),
      });
      const text = await r.text();
      for (const f of [...FORMS, "9434765918"]) expect(text).not.toContain(f);
      if (nhsNumber === FORMS[1]) expect(JSON.parse(text).priors).toHaveLength(2);
      else expect(r.status).toBe(400);
    }
    for (const path of ["/api/v1/repeats", "/api/v1/repeats/rates", "/api/v1/studies"]) {
      const text = await (await app.request(path)).text();
      for (const f of FORMS) expect(text).not.toContain(f);
    }
    expect(((await (await app.request("/api/v1/repeats")).json()) as { items: unknown[] }).items).toHaveLength(1);

    const cols = await opened.db.execute(
      sql`SELECT table_name, column_name FROM information_schema.columns
          WHERE table_schema = current_schema() AND data_type IN ('text', 'character varying', 'json', 'jsonb', 'ARRAY')`,
    );
    const list = (Array.isArray(cols) ? cols : (cols as { rows: unknown[] }).rows) as Array<{ table_name: string; column_name: string }>;
    expect(list.length).toBeGreaterThan(20);
    const digitsOnly = NHS.map((n) => `%${n}%`);
    for (const { table_name, column_name } of list) {
      const hits = await opened.db.execute(
        sql`SELECT count(*)::int AS n FROM ${sql.identifier(table_name)}
            WHERE regexp_replace(${sql.identifier(column_name)}::text, '[^0-9]', '', 'g') LIKE ANY (${sql.param(digitsOnly)}::text[])`,
      );
      const n = Number(((Array.isArray(hits) ? hits : (hits as { rows: unknown[] }).rows) as Array<{ n: number }>)[0]!.n);
      expect(n, `${table_name}.${column_name}`).toBe(0);
    }
    expect(logs.length).toBeGreaterThanOrEqual(0);
    for (const f of [...FORMS, "9434765918"]) expect(logs).not.toContain(f);
  });
});
