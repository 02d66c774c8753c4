/**
 * Date filters of the core and analytics APIs: a well-formed date that is not a day of the
 * calendar is a 400 naming the parameter, never a database error (500); real dates still filter.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, type SievertApp } from "../../src/api/app.ts";
import type { OpenedDatabase } from "../../src/db/client.ts";
import { openTestDatabase, TEST_KEY } from "../helpers/db.ts";

let opened: OpenedDatabase;
let app: SievertApp;

beforeAll(async () => {
  opened = await openTestDatabase();
  app = createApp({ db: opened.db, key: TEST_KEY, maxObjectBytes: 1024 * 1024 });
});
afterAll(async () => {
  await opened?.close();
});

describe("GET /api/v1/studies date filters", () => {
  for (const [param, value] of [
    ["from", "2025-13-01"],
    ["to", "2025-02-30"],
    ["from", "2025-00-10"],
    ["to", "0000-01-01"],
  ] as const) {
    it(`${param}=${value} is refused with 400 naming ${param}`, async () => {
      const res = await app.request(`/api/v1/studies?${param}=${value}`);
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("invalid-request");
      expect(body.error.message).toContain(param);
      expect(body.error.message).toContain("not a calendar date");
    });
  }

  it("a leap day and an ordinary range are accepted", async () => {
    const res = await app.request("/api/v1/studies?from=2024-02-29&to=2025-12-31");
    expect(res.status).toBe(200);
    expect(((await res.json()) as { total: number }).total).toBe(0);
  });
});

describe("GET /api/v1/analytics/{question} date filters", () => {
  for (const query of ["from=2025-13-01", "to=2025-02-30"]) {
    it(`${query} is refused with 400 (it reached DuckDB: 500, or matched nothing)`, async () => {
      const res = await app.request(`/api/v1/analytics/drl-comparison?period=all&${query}`);
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: { message: string } };
      expect(body.error.message).toContain(query.slice(0, query.indexOf("=")));
    });
  }
});
