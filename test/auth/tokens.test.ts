/**
 * API tokens: the token is returned once and only its SHA-256 is stored (no column of any table
 * holds the token or its secret); listing never shows either; expiry and revocation; input errors.
 * The CLI: `sievert token create` prints the token once, `list` never shows it, `revoke` takes effect.
 * `serve`: open mode only on loopback, said at start; SIEVERT_AUTH=open elsewhere is refused.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createToken, listTokens, parseExpiry, revokeToken, TokenInputError, verifyToken } from "../../src/auth/index.ts";
import { decideServeAuth } from "../../src/auth/mode.ts";
import { isLoopbackHost } from "../../src/auth/mode.ts";
import type { OpenedDatabase } from "../../src/db/client.ts";
import { apiTokens } from "../../src/db/schema.ts";
import { columnsContaining } from "../helpers/db-scan.ts";
import { openTestDatabase } from "../helpers/db.ts";
import { secretOf } from "./fixture.ts";

let opened: OpenedDatabase;
beforeAll(async () => {
  opened = await openTestDatabase();
});
afterAll(async () => opened?.close());

describe("tokens", () => {
  it("are svt_<publicId>_<secret>, stored only as SHA-256, never listed", async () => {
    const { token, record } = await createToken(opened.db, { name: "CT1 RVV", role: "modality", trusts: ["rvv"] });
    expect(token).toMatch(/^svt_[A-Za-z0-9_-]{11}_[A-Za-z0-9_-]{43}$/);
    expect(record).toMatchObject({ name: "CT1 RVV", role: "modality", trusts: ["RVV"], revokedAt: null });
    const days = (record.expiresAt.getTime() - record.createdAt.getTime()) / 86_400_000;
    expect(days).toBeCloseTo(90, 5);
    const secret = secretOf(token);
    expect(await columnsContaining(opened.db, secret)).toEqual([]);
    expect(await columnsContaining(opened.db, token)).toEqual([]);
    const [row] = await opened.db.select().from(apiTokens);
    expect(row!.tokenSha256).toBe(createHash("sha256").update(token).digest("hex"));
    const listed = JSON.stringify(await listTokens(opened.db));
    expect(listed).not.toContain(secret);
    expect(listed).not.toContain(row!.tokenSha256);
  });

  it("verify: valid, wrong secret, revoked, expired", async () => {
    const now = new Date("2026-01-01T00:00:00Z");
    const { token, record } = await createToken(opened.db, { name: "p", role: "physicist", trusts: ["RVV"], expiresAt: new Date("2026-01-31T00:00:00Z") }, now);
    expect(await verifyToken(opened.db, token, now)).toMatchObject({ ok: true, record: { id: record.id, role: "physicist" } });
    expect((await listTokens(opened.db)).find((t) => t.id === record.id)?.lastUsedAt?.toISOString()).toBe(now.toISOString());
    const last = token.at(-1) === "A" ? "B" : "A";
    expect(await verifyToken(opened.db, token.slice(0, -1) + last, now)).toEqual({ ok: false, reason: "unknown" });
    expect(await verifyToken(opened.db, "svt_short", now)).toEqual({ ok: false, reason: "malformed" });
    expect(await verifyToken(opened.db, token, new Date("2026-01-31T00:00:00Z"))).toEqual({ ok: false, reason: "expired" });
    await revokeToken(opened.db, record.id, now);
    expect(await verifyToken(opened.db, token, now)).toEqual({ ok: false, reason: "revoked" });
    expect(await revokeToken(opened.db, 99_999)).toBeNull();
  });

  it("refuse bad input with the field and the reason", async () => {
    await expect(createToken(opened.db, { name: "x", role: "root", trusts: ["RVV"] })).rejects.toThrow(/role: "root"/);
    await expect(createToken(opened.db, { name: "x", role: "physicist", trusts: [] })).rejects.toThrow(/needs at least one trust/);
    await expect(createToken(opened.db, { name: "x", role: "physicist", trusts: ["R V V"] })).rejects.toThrow(TokenInputError);
    await expect(createToken(opened.db, { name: " ", role: "admin", trusts: [] })).rejects.toThrow(/name/);
  });

  it("expiry: durations and dates", () => {
    const now = new Date("2026-01-01T00:00:00Z");
    expect(parseExpiry("30d", now).toISOString()).toBe("2026-01-31T00:00:00.000Z");
    expect(parseExpiry("12h", now).toISOString()).toBe("2026-01-01T12:00:00.000Z");
    expect(parseExpiry("2w", now).toISOString()).toBe("2026-01-15T00:00:00.000Z");
    expect(parseExpiry("2026-03-31", now).toISOString()).toBe("2026-03-31T00:00:00.000Z");
    expect(() => parseExpiry("2025-12-31", now)).toThrow(/in the past/);
    expect(() => parseExpiry("0d", now)).toThrow(/zero/);
    expect(() => parseExpiry("soon", now)).toThrow(/not a duration/);
  });
});

describe("serve authentication mode", () => {
  it("is open only on loopback, and tokens otherwise", () => {
    expect(decideServeAuth({ demo: true, host: "127.0.0.1", setting: undefined })).toEqual({ mode: "open", notice: "open mode: no authentication; listening on loopback only" });
    expect(decideServeAuth({ demo: true, host: "0.0.0.0", setting: undefined }).mode).toBe("tokens");
    expect(decideServeAuth({ demo: false, host: "127.0.0.1", setting: undefined }).mode).toBe("tokens");
    expect(decideServeAuth({ demo: false, host: "::1", setting: "open" }).mode).toBe("open");
    expect(decideServeAuth({ demo: true, host: "127.0.0.1", setting: "tokens" }).mode).toBe("tokens");
    expect(() => decideServeAuth({ demo: false, host: "0.0.0.0", setting: "open" })).toThrow(/only on a loopback address/);
    expect(() => decideServeAuth({ demo: false, host: "10.0.0.5", setting: "open" })).toThrow(/10\.0\.0\.5/);
    expect(() => decideServeAuth({ demo: false, host: "127.0.0.1", setting: "none" })).toThrow(/SIEVERT_AUTH/);
    for (const h of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]", "::ffff:127.0.0.1"]) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ["0.0.0.0", "::", "192.168.1.1", "example.org", "128.0.0.1"]) expect(isLoopbackHost(h), h).toBe(false);
  });
});

describe("CLI", () => {
  const BIN = resolve(import.meta.dirname, "../../src/cli/sievert.mjs");
  const scratch = mkdtempSync(join(tmpdir(), "sievert-token-"));
  const env = { ...process.env, SIEVERT_DATA_DIR: join(scratch, "data"), DATABASE_URL: "", SIEVERT_DIMSE_PORT: "off", LOG_LEVEL: "silent" };
  const sievert = (args: string[], extra: Record<string, string> = {}) => spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", cwd: scratch, env: { ...env, ...extra } });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("token create prints the token once; list never shows it; revoke marks it revoked", () => {
    const created = sievert(["token", "create", "--role", "physicist", "--trust", "RVV", "--trust", "RWF", "--name", "Dr Physicist", "--expires", "30d"]);
    expect(created.stderr).toBe("");
    expect(created.status).toBe(0);
    const token = /svt_[A-Za-z0-9_-]{11}_[A-Za-z0-9_-]{43}/.exec(created.stdout)?.[0];
    expect(token).toBeDefined();
    expect(created.stdout).toMatch(/token 1 "Dr Physicist": physicist, trusts RVV, RWF/);
    expect(created.stdout).toContain("not shown again");
    const list = sievert(["token", "list"]);
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(/^1\s+Dr Physicist\s+physicist\s+RVV,RWF\s.*active$/m);
    expect(list.stdout).not.toContain(secretOf(token!));
    const revoked = sievert(["token", "revoke", "1"]);
    expect(revoked.status).toBe(0);
    expect(revoked.stdout).toMatch(/token 1 "Dr Physicist" revoked/);
    expect(sievert(["token", "list"]).stdout).toMatch(/^1\s+Dr Physicist.*revoked$/m);
    const bad = sievert(["token", "create", "--role", "wizard", "--name", "x", "--trust", "RVV"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('role: "wizard"');
    const badExpiry = sievert(["token", "create", "--role", "committee", "--name", "x", "--trust", "RVV", "--expires", "soon"]);
    expect(badExpiry.status).toBe(2);
    expect(badExpiry.stderr).toContain('expires: "soon" is not a duration');
  }, 120_000);

  it("serve refuses SIEVERT_AUTH=open on a non-loopback address before listening", () => {
    const r = sievert(["serve", "--port", "0"], { SIEVERT_AUTH: "open", SIEVERT_HOST: "0.0.0.0" });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("SIEVERT_AUTH=open is allowed only on a loopback address");
  });

  it("serve in open mode on loopback says so at start", async () => {
    const child = spawn(process.execPath, [BIN, "serve", "--port", "0", "--host", "127.0.0.1"], { cwd: scratch, env: { ...env, SIEVERT_AUTH: "open" } });
    let out = "";
    try {
      await new Promise<void>((resolvePromise, reject) => {
        const timer = setTimeout(() => reject(new Error(`no start-up line; stdout: ${out}`)), 60_000);
        child.stdout.on("data", (d: Buffer) => {
          out += d.toString("utf8");
          if (out.includes("open mode")) {
            clearTimeout(timer);
            resolvePromise();
          }
        });
        let err = "";
        child.stderr.on("data", (d: Buffer) => (err += d.toString("utf8")));
        child.on("exit", (code) => reject(new Error(`serve exited ${code}: ${out} ${err}`)));
      });
    } finally {
      child.kill("SIGTERM");
    }
    expect(out).toMatch(/Sievert is running at http:\/\/127\.0\.0\.1:\d+\/\nopen mode: no authentication; listening on loopback only\n/);
  }, 90_000);
});
