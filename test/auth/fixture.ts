/**
 * An app with authentication on (tokens mode) over an in-memory database holding one CT study
 * from each of two trusts (RVV and RWF, same patient: a precheck from either finds the other),
 * plus one token per role scoped to RVV (admin: every trust).
 */
import pino from "pino";
import { Writable } from "node:stream";
import { createApp, type SievertApp } from "../../src/api/app.ts";
import { AnalyticsService, registerAnalytics } from "../../src/analytics/service.ts";
import { createToken } from "../../src/auth/index.ts";
import type { OpenedDatabase } from "../../src/db/client.ts";
import { detectRepeats } from "../../src/repeats/index.ts";
import { openTestDatabase, TEST_KEY } from "../helpers/db.ts";
import { ctStudy } from "../repeats/fixtures.ts";

export const NHS_NUMBER = "9434765919";
export type RoleName = "modality" | "clinician" | "physicist" | "committee" | "admin";
export const ROLE_NAMES: RoleName[] = ["modality", "clinician", "physicist", "committee", "admin"];

export interface StoredStudy {
  trust: string;
  studyInstanceUid: string;
  sopInstanceUid: string;
}

export interface AuthFixture {
  opened: OpenedDatabase;
  app: SievertApp;
  analytics: AnalyticsService;
  /** Token per role (trust RVV; admin spans all). */
  tokens: Record<RoleName, string>;
  rvv: StoredStudy;
  rwf: StoredStudy;
  logs: () => string;
  request(path: string, token: string | null, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

export async function openAuthFixture(): Promise<AuthFixture> {
  const opened = await openTestDatabase();
  let logText = "";
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logText += chunk.toString("utf8");
      cb();
    },
  });
  const logger = pino({ level: "trace" }, sink);
  const analytics = await AnalyticsService.open(opened.db, { path: ":memory:" });
  registerAnalytics(opened.db, analytics);
  const app = createApp({ db: opened.db, key: TEST_KEY, maxObjectBytes: 64 << 20, logger, auth: { mode: "tokens" }, analytics } as Parameters<typeof createApp>[0]);
  const tokens = {} as Record<RoleName, string>;
  for (const role of ROLE_NAMES) {
    tokens[role] = (await createToken(opened.db, { name: `test ${role}`, role, trusts: role === "admin" ? [] : ["RVV"] })).token;
  }
  const request = (path: string, token: string | null, init: RequestInit = {}): Promise<Response> => {
    const headers = new Headers(init.headers);
    if (token) headers.set("authorization", `Bearer ${token}`);
    return Promise.resolve(app.request(path, { ...init, headers }));
  };
  const upload = async (trust: string, time: string): Promise<StoredStudy> => {
    const { bytes, studyInstanceUid } = ctStudy({ nhs: NHS_NUMBER, patientId: `MRN-${trust}`, trust, description: "CT Head", date: "2024-06-01", time });
    const r = await request(`/api/v1/objects?trust=${trust}`, tokens.admin, { method: "POST", headers: { "content-type": "application/dicom" }, body: bytes });
    if (r.status !== 201) throw new Error(`fixture upload answered ${r.status}: ${await r.text()}`);
    const body = (await r.json()) as { sopInstanceUid: string };
    return { trust, studyInstanceUid, sopInstanceUid: body.sopInstanceUid };
  };
  const rvv = await upload("RVV", "08:00");
  const rwf = await upload("RWF", "12:00");
  await detectRepeats(opened.db, TEST_KEY);
  await analytics.sync();
  return {
    opened,
    app,
    analytics,
    tokens,
    rvv,
    rwf,
    logs: () => logText,
    request,
    async close() {
      await analytics.close();
      await opened.close();
    },
  };
}

/** A precheck body for the fixture's patient. */
export function precheckBody(requestingTrust: string): string {
  return JSON.stringify({ patient: { nhsNumber: NHS_NUMBER }, requestingTrust, exam: { text: "CT head" }, at: "2024-06-01T18:00:00" });
}

/** The secret part of `svt_<publicId>_<secret>` (publicId is 11 base64url characters, which may include `_`). */
export function secretOf(token: string): string {
  return token.slice("svt_".length + 11 + 1);
}
