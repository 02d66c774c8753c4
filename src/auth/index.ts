/**
 * auth/ owns who may do what: API tokens (tokens.ts: hashed, shown once, expiring, revocable),
 * roles → permissions (data/roles.json), the route access table (access-table.ts, default
 * deny), trust scoping (principal.ts: currentTrustScope for routes that filter themselves),
 * the middleware that enforces all of it and audits patient-level reads (middleware.ts), the
 * web sign-in (signin.ts), the open/tokens mode decision of `serve` (mode.ts) and
 * `sievert token …` (cli.ts).
 */
export { authMiddleware, SESSION_COOKIE, REASON_HEADER, type AuthMode, type AuthOptions } from "./middleware.ts";
export { ACCESS_TABLE, matchAccess, type AccessEntry, type TrustRule } from "./access-table.ts";
export { currentPrincipal, currentTrustScope, mayRevealIdentifiers, type Principal } from "./principal.ts";
export { createToken, verifyToken, listTokens, revokeToken, parseExpiry, TokenInputError, DEFAULT_TOKEN_DAYS, type TokenRecord } from "./tokens.ts";
export { registerSignInPages } from "./signin.ts";
export { ROLES, PERMISSIONS, roleAllows, type Role, type Permission } from "./roles.ts";
