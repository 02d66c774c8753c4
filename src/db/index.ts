/**
 * db/ owns storage: the drizzle pg-core schema (schema.ts), the client that opens PGlite
 * (embedded default) or Postgres (DATABASE_URL) and applies the migrations in ../../sql
 * (client.ts), and the queries the API and CLI use (queries.ts). It knows nothing of HTTP.
 */
export {
  openDatabase,
  DEFAULT_DATA_DIR,
  MIGRATIONS_FOLDER,
  type OpenDatabaseOptions,
  type OpenedDatabase,
  type SievertDb,
  type SievertTx,
  type Dialect,
} from "./client.ts";
export * as tables from "./schema.ts";
export * from "./queries.ts";
