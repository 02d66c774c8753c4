/** `sievert token create|list|revoke`: manage API tokens (the secret is printed once, by create). */
import type { Command } from "commander";
import { createToken, listTokens, parseExpiry, revokeToken, tokenStatus, TokenInputError, DEFAULT_TOKEN_DAYS } from "./tokens.ts";
import { ROLES, roleDescription } from "./roles.ts";
import { withDatabase } from "../cli/with-services.ts";

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), ...value.split(",").map((v) => v.trim()).filter(Boolean)];

function day(d: Date | null): string {
  return d ? d.toISOString().slice(0, 16).replace("T", " ") : "–";
}

export function registerTokenCommands(program: Command, setExit: (code: number) => void): void {
  const token = program.command("token").description("Manage API tokens: create (shown once), list, revoke.");

  token
    .command("create")
    .description(`Create an API token and print it once (only its SHA-256 is stored). Roles: ${ROLES.map((r) => `${r} (${roleDescription(r)})`).join("; ")}.`)
    .requiredOption("--role <role>", `one of ${ROLES.join(", ")}`)
    .requiredOption("--name <name>", "who or what holds it, e.g. \"CT1 RVV\" or \"Dr A Physicist\"")
    .option("--trust <ods>", "ODS code of a trust the token acts for (repeatable, or comma-separated); admin tokens span every trust", collect)
    .option("--expires <when>", `lifetime (30d, 12h, 2w) or a date (2027-03-31); default ${DEFAULT_TOKEN_DAYS}d`)
    .option("--json", "print the token and its record as JSON")
    .action(async (o: { role: string; name: string; trust?: string[]; expires?: string; json?: boolean }) => {
      try {
        const expiresAt = o.expires ? parseExpiry(o.expires) : undefined;
        const { token: secret, record } = await withDatabase((db) => createToken(db, { name: o.name, role: o.role, trusts: o.trust ?? [], ...(expiresAt ? { expiresAt } : {}) }));
        if (o.json) process.stdout.write(`${JSON.stringify({ token: secret, ...record })}\n`);
        else {
          process.stdout.write(
            `token ${record.id} "${record.name}": ${record.role}, trusts ${record.trusts.join(", ") || "all"}, expires ${day(record.expiresAt)} UTC\n${secret}\n` +
              "Store it now: it is not shown again (only its SHA-256 is kept). Use it as: Authorization: Bearer <token>\n",
          );
        }
      } catch (e) {
        if (e instanceof TokenInputError) {
          process.stderr.write(`sievert token create: ${e.message}\n`);
          setExit(2);
          return;
        }
        throw e;
      }
    });

  token
    .command("list")
    .description("List tokens (id, name, role, trusts, created, expires, last used, status); never a secret.")
    .option("--json", "NDJSON, one token per line")
    .action(async (o: { json?: boolean }) => {
      const tokens = await withDatabase((db) => listTokens(db));
      const now = new Date();
      if (o.json) {
        for (const t of tokens) process.stdout.write(`${JSON.stringify({ ...t, status: tokenStatus(t, now) })}\n`);
        return;
      }
      if (tokens.length === 0) {
        process.stdout.write("no tokens (create one with: sievert token create --role admin --name NAME)\n");
        return;
      }
      const rows = tokens.map((t) => [String(t.id), t.name, t.role, t.trusts.join(",") || "all", day(t.createdAt), day(t.expiresAt), day(t.lastUsedAt), tokenStatus(t, now)]);
      const head = ["id", "name", "role", "trusts", "created", "expires", "last used", "status"];
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      for (const r of [head, ...rows]) process.stdout.write(`${r.map((v, i) => v.padEnd(widths[i]!)).join("  ").trimEnd()}\n`);
    });

  token
    .command("revoke")
    .description("Revoke a token at once (its next request is refused with 401).")
    .argument("<id>", "token id (from sievert token list)")
    .action(async (id: string) => {
      const n = Number(id);
      if (!Number.isInteger(n) || n < 1 || n > 2 ** 31 - 1) {
        process.stderr.write(`sievert token revoke: "${id}" is not a token id (see sievert token list)\n`);
        setExit(2);
        return;
      }
      const t = await withDatabase((db) => revokeToken(db, n));
      if (!t) {
        process.stderr.write(`sievert token revoke: no token ${n}\n`);
        setExit(1);
        return;
      }
      process.stdout.write(`token ${t.id} "${t.name}" revoked at ${day(t.revokedAt)} UTC\n`);
    });
}
