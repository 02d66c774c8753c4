/**
 * The app on the committed demo data (sample-rdsr/, as `npm start` loads it): in-memory PGlite,
 * an in-memory analytics copy synced once, optionally listening on a free loopback port.
 */
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { serve, type ServerType } from "@hono/node-server";
import { createApp, type SievertApp } from "../../src/api/app.ts";
import { AnalyticsService, registerAnalytics } from "../../src/analytics/service.ts";
import { loadDemoData } from "../../src/cli/demo.ts";
import { detectRepeats } from "../../src/repeats/index.ts";
import type { SievertDb } from "../../src/db/client.ts";
import { openTestDatabase, TEST_KEY } from "../helpers/db.ts";

export const SAMPLE_DIR = join(import.meta.dirname, "../../sample-rdsr");
/** The demo data's last quarter (study dates end on 2025-11-28). */
export const SAMPLE_PERIOD = "2025-Q4";

export interface SampleApp {
  app: SievertApp;
  db: SievertDb;
  analytics: AnalyticsService;
  url: string | null;
  close(): Promise<void>;
}

export async function startSampleApp(options: { listen?: boolean } = {}): Promise<SampleApp> {
  const opened = await openTestDatabase();
  await loadDemoData(opened.db, SAMPLE_DIR, TEST_KEY);
  await detectRepeats(opened.db, TEST_KEY); // what the repeat detector does after ingest in the service
  const analytics = await AnalyticsService.open(opened.db, { path: ":memory:" });
  registerAnalytics(opened.db, analytics);
  await analytics.sync();
  const app = createApp({ db: opened.db, key: TEST_KEY, maxObjectBytes: 64 * 1024 * 1024, analytics } as Parameters<typeof createApp>[0]);
  let server: ServerType | null = null;
  let url: string | null = null;
  if (options.listen) {
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  return {
    app,
    db: opened.db,
    analytics,
    url,
    async close() {
      if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
      await analytics.close();
      await opened.close();
    },
  };
}
