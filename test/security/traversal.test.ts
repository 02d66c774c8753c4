/**
 * Path traversal: /static/{file} and /dashboards/{name} serve only their allow-lists (the five
 * bundled files; the specs in dashboards/), whatever the encoding of "..": %2f, %2e%2e, %5c,
 * backslashes, double encoding, NUL, or an inherited property name. Tried in process and over a
 * real socket (where the request line reaches the server unnormalised). Report file names built
 * from the period and trust cannot leave the output folder.
 */
import { readFileSync } from "node:fs";
import { connect, type AddressInfo } from "node:net";
import type { ServerType } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, type SievertApp } from "../../src/api/app.ts";
import { startHttpServer } from "../../src/api/http-server.ts";
import type { OpenedDatabase } from "../../src/db/client.ts";
import { buildReport, ReportPeriodError, safeFileStem } from "../../src/report/build.ts";
import { openTestDatabase, TEST_KEY } from "../helpers/db.ts";

const PACKAGE_NAME = `"name": "sievert"`;
const ETC_PASSWD = "root:x:0:0";

const ATTEMPTS = [
  "..%2f..%2fpackage.json",
  "..%2F..%2F..%2F..%2Fetc%2Fpasswd",
  "%2e%2e%2f%2e%2e%2fpackage.json",
  "%2e%2e/%2e%2e/package.json",
  "..%5c..%5cpackage.json",
  "..\\..\\package.json",
  "%252e%252e%252fpackage.json",
  "....//....//package.json",
  "vega.min.js%00.css",
  "constructor",
  "__proto__",
  "toString",
  "hasOwnProperty",
  "drl-comparison.vl.json",
  "..%2fsrc%2fweb%2fstatic%2fdashboard.js",
];

let opened: OpenedDatabase;
let app: SievertApp;
let server: ServerType;
let port: number;

beforeAll(async () => {
  opened = await openTestDatabase();
  app = createApp({ db: opened.db, key: TEST_KEY, maxObjectBytes: 1024 * 1024 });
  server = await new Promise<ServerType>((resolve) => {
    const s = startHttpServer({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s));
  });
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await opened.close();
});

/** One request written byte for byte on a socket: the path is not normalised by any client. */
function rawGet(path: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", reject);
    socket.on("close", () => {
      const text = Buffer.concat(chunks).toString("latin1");
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text });
    });
  });
}

describe("/static and /dashboards serve only their allow-lists", () => {
  it("the allowed files are served", async () => {
    const js = await app.request("/static/vega.min.js");
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toContain("javascript");
    await js.body?.cancel();
    expect((await rawGet("/static/sievert.css")).status).toBe(200);
  });

  for (const prefix of ["/static/", "/dashboards/"]) {
    it(`${prefix}: every traversal and inherited-name attempt is 400 or 404 and leaks no file (in process and over a socket)`, async () => {
      const ours = readFileSync(new URL("../../src/web/static/dashboard.js", import.meta.url), "utf8").slice(0, 200);
      for (const attempt of ATTEMPTS) {
        for (const r of [await Promise.resolve(app.request(`${prefix}${attempt}`)).then(async (res) => ({ status: res.status, text: await res.text() })), await rawGet(`${prefix}${attempt}`)]) {
          expect([400, 404], `${prefix}${attempt} → ${r.status}`).toContain(r.status);
          expect(r.text).not.toContain(PACKAGE_NAME);
          expect(r.text).not.toContain(ETC_PASSWD);
          if (!attempt.endsWith("dashboard.js")) continue;
          expect(r.text).not.toContain(ours);
        }
      }
    });
  }
});

describe("report file names", () => {
  it("are letters, digits, - and _ only", () => {
    expect(safeFileStem("sievert-report-2025-Q4-../../etc/passwd")).toBe("sievert-report-2025-Q4-______etc_passwd");
    expect(safeFileStem("a\\b\u0000c")).toBe("a_b_c");
  });

  it("a trust that is not an ODS code is refused before any file name is made", async () => {
    await expect(buildReport(app, { period: "2025-Q4", trust: "../../etc" })).rejects.toBeInstanceOf(ReportPeriodError);
    await expect(buildReport(app, { period: "../2025-Q4", trust: null })).rejects.toBeInstanceOf(ReportPeriodError);
  });
});
