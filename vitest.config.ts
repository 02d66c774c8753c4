// Test runner settings: node environment; database tests open their own PGlite in memory,
// or their own schema on the server named by DATABASE_URL (test/helpers/db.ts).
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    reporters: ["default"],
  },
});
