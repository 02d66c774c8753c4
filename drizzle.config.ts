// drizzle-kit configuration: generates SQL migrations from src/db/schema.ts into ./sql.
// The application applies them in-process at startup (src/db/client.ts), on PGlite and Postgres alike.
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  schema: "./src/db/schema.ts",
  out: "./sql",
  strict: true,
  verbose: true,
});
