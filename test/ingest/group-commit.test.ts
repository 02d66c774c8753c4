/**
 * GroupCommit: objects stored at the same time share one transaction on a Postgres server, with
 * the outcomes storeParsedObject gives one by one; a group that fails rolls back and its objects
 * are stored on their own. On PGlite it is storeParsedObject.
 */
import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { OpenedDatabase, SievertDb } from "../../src/db/client.ts";
import { doseObjects, irradiationEvents, quarantine, studies } from "../../src/db/schema.ts";
import { GroupCommit } from "../../src/ingest/group-commit.ts";
import type { IngestMeta } from "../../src/ingest/store.ts";
import { openTestDatabase, resetTestDatabase, TEST_KEY } from "../helpers/db.ts";
import { bytesFor, ctEvent, ctRdsr, notDose, unreadable } from "./fixtures.ts";

let opened: OpenedDatabase;
let db: SievertDb;
beforeAll(async () => {
  opened = await openTestDatabase();
  db = opened.db;
});
afterAll(async () => {
  await opened.close();
});
beforeEach(async () => {
  await resetTestDatabase(db);
});

const meta = (name: string): IngestMeta => ({ source: "dimse", trustOds: "RJ1", name, key: TEST_KEY });
const objectCount = async () => (await db.select({ n: count() }).from(doseObjects))[0]?.n;
const onServer = Boolean(process.env.DATABASE_URL);

describe("GroupCommit", () => {
  it("is on for a Postgres server only", () => {
    expect(new GroupCommit(db).enabled).toBe(onServer);
  });

  it("objects stored at once: every one stored, in groups on a server, outcomes as one by one", async () => {
    const group = new GroupCommit(db);
    const objects = Array.from({ length: 12 }, (_, i) =>
      ctRdsr({ sop: `1.2.3.100.${i}`, study: `1.2.3.1.${i % 3}`, events: [ctEvent(`1.2.3.9.${i}`, 50, 800)] }),
    );
    const results = await Promise.all(objects.map((o, i) => group.store(o, bytesFor(`ct${i}`), meta(`ct${i}.dcm`))));
    expect(results.map((r) => r.outcome)).toEqual(Array(12).fill("stored"));
    expect(new Set(results.map((r) => r.objectId)).size).toBe(12);
    expect(await objectCount()).toBe(12);
    expect((await db.select({ n: count() }).from(studies))[0]?.n).toBe(3);
    expect((await db.select({ n: count() }).from(irradiationEvents))[0]?.n).toBe(12);
    if (onServer) {
      // the first goes alone (nothing else was waiting), the rest wait for it and share transactions
      expect(group.stats.single).toBeGreaterThanOrEqual(1);
      expect(group.stats.groups).toBeGreaterThanOrEqual(1);
      expect(group.stats.single + group.stats.grouped).toBe(12);
      expect(group.stats.rolledBack).toBe(0);
    }
  });

  it("the same object twice in one group is stored once; shared events go on to the transactional path", async () => {
    const group = new GroupCommit(db);
    const first = group.store(ctRdsr({ sop: "1.2.3.100.0" }), bytesFor("lead"), meta("lead.dcm")); // written alone
    const same = [0, 1].map((i) => group.store(ctRdsr({ sop: "1.2.3.100.1", events: [ctEvent("1.2.3.9.9", 5, 5)] }), bytesFor("dup"), meta(`dup${i}.dcm`)));
    // Its two events were stored by the first object: stored without them, with a warning each.
    const sharing = group.store(ctRdsr({ sop: "1.2.3.100.2", events: [ctEvent("1.2.3.9.1", 50, 800), ctEvent("1.2.3.9.2", 55, 600)] }), bytesFor("cont"), meta("cont.dcm"));
    const [lead, a, b, cont] = await Promise.all([first, ...same, sharing]);
    expect(lead!.outcome).toBe("stored");
    expect([a!.outcome, b!.outcome].sort()).toEqual(["duplicate", "stored"]);
    expect(a!.objectId).toBe(b!.objectId);
    expect(cont!.outcome).toBe("stored");
    expect(cont!.report.warnings.filter((w) => /is already stored with object 1\.2\.3\.100\.0/.test(w))).toHaveLength(2);
    expect(await objectCount()).toBe(3);
    expect((await db.select({ n: count() }).from(irradiationEvents))[0]?.n).toBe(3);
  });

  it("a group with an object the server refuses rolls back; the others are then stored on their own", async () => {
    const group = new GroupCommit(db);
    const lead = group.store(ctRdsr({ sop: "1.2.3.100.0" }), bytesFor("lead"), meta("lead.dcm"));
    const bad = ctRdsr({ sop: "1.2.3.100.1", events: [ctEvent("1.2.3.9.5", 1, 1)] });
    bad.report.device.manufacturer = "SIE\u0000MENS"; // text with a NUL byte: Postgres refuses the statement
    const good = [2, 3].map((i) => group.store(ctRdsr({ sop: `1.2.3.100.${i}`, events: [ctEvent(`1.2.3.9.${10 + i}`, 1, 1)] }), bytesFor(`g${i}`), meta(`g${i}.dcm`)));
    const refused = group.store(bad, bytesFor("bad"), meta("bad.dcm"));
    const settled = await Promise.allSettled([lead, ...good, refused]);
    expect(settled.slice(0, 3).map((s) => (s.status === "fulfilled" ? s.value.outcome : s.reason))).toEqual(["stored", "stored", "stored"]);
    if (onServer) {
      expect(settled[3]!.status).toBe("rejected"); // as storeParsedObject: the database failed for this object
      expect(group.stats.rolledBack).toBe(1);
      expect(await objectCount()).toBe(3);
      expect(await db.select().from(doseObjects).where(eq(doseObjects.sopInstanceUid, "1.2.3.100.1"))).toEqual([]);
    }
  });

  it("quarantine and not-dose objects take their own path", async () => {
    const group = new GroupCommit(db);
    const [q, n, s] = await Promise.all([
      group.store(unreadable(), bytesFor("bad"), meta("bad.dcm")),
      group.store(notDose(), bytesFor("nd"), meta("nd.dcm")),
      group.store(ctRdsr(), bytesFor("ct"), meta("ct.dcm")),
    ]);
    expect([q!.outcome, n!.outcome, s!.outcome]).toEqual(["quarantined", "not-dose", "stored"]);
    expect((await db.select({ n: count() }).from(quarantine))[0]?.n).toBe(1);
  });
});
