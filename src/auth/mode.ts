/**
 * Which authentication mode `sievert serve` runs in. Open mode (no tokens) is only ever allowed
 * on a loopback address: the demo (`npm start` = `serve --demo`) is open on 127.0.0.1 by
 * default; everything else requires tokens, and SIEVERT_AUTH=open on a non-loopback address is
 * refused at start-up.
 */
import { isIP } from "node:net";
import type { AuthMode } from "./middleware.ts";

export class AuthModeError extends Error {
  override name = "AuthModeError";
}

/** 127.0.0.0/8, ::1, ::ffff:127.x, localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, "");
  if (h === "localhost") return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  if (isIP(h) === 6) return h === "::1" || /^::ffff:127\./.test(h) || /^0{0,4}(:0{0,4}){6}:0{0,3}1$/.test(h);
  return false;
}

export interface ServeAuthDecision {
  mode: AuthMode;
  /** The line `serve` prints at start. */
  notice: string;
}

/** SIEVERT_AUTH: "tokens", "open", or unset (open for the demo on loopback, else tokens). */
export function decideServeAuth(input: { demo: boolean; host: string; setting: string | undefined }): ServeAuthDecision {
  const setting = input.setting?.trim().toLowerCase() || undefined;
  if (setting !== undefined && setting !== "open" && setting !== "tokens") {
    throw new AuthModeError(`SIEVERT_AUTH: "${input.setting}" is not "tokens" or "open"`);
  }
  const loopback = isLoopbackHost(input.host);
  const tokens: ServeAuthDecision = { mode: "tokens", notice: "authentication: API tokens required (create one with: sievert token create --role admin --name NAME)" };
  if (setting === "tokens") return tokens;
  if (setting === "open" || (setting === undefined && input.demo)) {
    if (!loopback) {
      if (setting === "open") throw new AuthModeError(`SIEVERT_AUTH=open is allowed only on a loopback address (127.0.0.1, ::1, localhost), not ${input.host}; use tokens (sievert token create)`);
      return { mode: "tokens", notice: `demo on ${input.host}, not loopback: ${tokens.notice}` };
    }
    return { mode: "open", notice: "open mode: no authentication; listening on loopback only" };
  }
  return tokens;
}
