/**
 * Web sign-in with authentication on: POST /signin keeps the token in an HttpOnly, SameSite=Strict
 * cookie and the pages then work (their in-process API reads act as the same token); a bad token
 * re-shows the form (401); `next` stays on this site; sign-out clears the cookie; a revoked token's
 * cookie stops working at once. DIMSE: unknown calling AE titles are rejected by default.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createToken, revokeToken } from "../../src/auth/index.ts";
import { safeNext } from "../../src/auth/signin.ts";
import { loadConfig } from "../../src/config/index.ts";
import { loadAeTrustTable, resolveCaller } from "../../src/dimse/ae-table.ts";
import { openAuthFixture, type AuthFixture } from "./fixture.ts";

let f: AuthFixture;
beforeAll(async () => {
  f = await openAuthFixture();
}, 120_000);
afterAll(async () => f?.close());

const form = (fields: Record<string, string>, headers: Record<string, string> = {}): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
  body: new URLSearchParams(fields).toString(),
});

async function signIn(token: string, next = "/"): Promise<{ res: Response; cookie: string | null }> {
  const res = await f.app.request("/signin", form({ token, next }));
  const set = res.headers.get("set-cookie");
  return { res, cookie: set ? set.split(";")[0]! : null };
}

describe("sign-in", () => {
  it("sets an HttpOnly SameSite=Strict cookie and redirects to next; pages and their API reads then work", async () => {
    const { res, cookie } = await signIn(f.tokens.physicist, "/dashboards/drilldown?exam=CT_HEAD");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/dashboards/drilldown?exam=CT_HEAD");
    const set = res.headers.get("set-cookie")!;
    expect(set).toMatch(/^sievert_token=svt_/);
    expect(set).toMatch(/HttpOnly/i);
    expect(set).toMatch(/SameSite=Strict/i);
    expect(set).toMatch(/Path=\//);
    const page = await f.app.request("/", { headers: { cookie: cookie!, accept: "text/html" } });
    expect(page.status).toBe(200);
    expect(await page.text()).not.toMatch(/answered 40[13]/); // the overview's API reads ran as the physicist
    const api = await f.app.request(`/api/v1/objects/${f.rvv.sopInstanceUid}`, { headers: { cookie: cookie! } });
    expect(api.status).toBe(200);
  });

  it("a wrong token re-shows the form with the reason (401) and sets no cookie", async () => {
    const { res, cookie } = await signIn("svt_AAAAAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    expect(res.status).toBe(401);
    expect(cookie).toBeNull();
    expect(await res.text()).toContain("That token is not valid.");
  });

  it("keeps next on this site and escapes it in the form", async () => {
    for (const bad of ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)", "/ok\r\nSet-Cookie: x=1"]) expect(safeNext(bad), bad).toBe("/");
    expect(safeNext("/report?period=2025-Q4")).toBe("/report?period=2025-Q4");
    const page = await (await f.app.request(`/signin?next=${encodeURIComponent('/x"><script>alert(1)</script>')}`)).text();
    expect(page).not.toContain("<script>alert(1)</script>");
    expect(page).toContain("&quot;&gt;&lt;script&gt;");
    const { res } = await signIn(f.tokens.committee, "https://evil.example/");
    expect(res.headers.get("location")).toBe("/");
  });

  it("refuses a sign-in posted from another site", async () => {
    const res = await f.app.request("http://localhost/signin", form({ token: f.tokens.committee, next: "/" }, { origin: "https://evil.example" }));
    expect(res.status).toBe(403);
  });

  it("a revoked token's cookie stops working at once; sign-out clears the cookie", async () => {
    const { token, record } = await createToken(f.opened.db, { name: "browser", role: "committee", trusts: ["RVV"] });
    const { cookie } = await signIn(token);
    expect((await f.app.request("/dashboards/trends", { headers: { cookie: cookie! } })).status).toBe(200);
    await revokeToken(f.opened.db, record.id);
    const after = await f.app.request("/dashboards/trends", { headers: { cookie: cookie!, accept: "text/html" } });
    expect(after.status).toBe(303);
    expect(after.headers.get("location")).toBe("/signin?next=%2Fdashboards%2Ftrends&problem=revoked");
    const out = await f.app.request("/signout", { method: "POST", headers: { cookie: cookie! } });
    expect(out.status).toBe(303);
    expect(out.headers.get("set-cookie")).toMatch(/^sievert_token=;.*Max-Age=0/);
  });
});

describe("DIMSE calling AE titles", () => {
  it("are rejected by default when not in the AE → trust table", () => {
    const config = loadConfig({ SIEVERT_AE_TRUSTS: "CT1_RVV=RVV" });
    const table = loadAeTrustTable({ list: config.dimse.aeTrusts, file: config.dimse.aeTrustsFile, unknown: config.dimse.aeUnknown });
    expect(resolveCaller(table, "CT1_RVV")).toMatchObject({ accepted: true, trustOds: "RVV" });
    expect(resolveCaller(table, "STRANGER")).toMatchObject({ accepted: false });
  });
});
