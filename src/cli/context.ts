/** Opens what every command that touches storage needs: the database and the pseudonym key. */
import { join } from "node:path";
import { openDatabase, type OpenedDatabase } from "../db/client.ts";
import { loadPseudonymKey } from "../linkage/index.ts";
import type { SievertConfig } from "../config/index.ts";
import { setElementBudget } from "../dicom/index.ts";

export interface Services extends OpenedDatabase {
  key: Buffer;
}

export async function openServices(config: SievertConfig): Promise<Services> {
  setElementBudget(config.maxElements); // SIEVERT_MAX_ELEMENTS: every object ingested from here on
  const key = loadPseudonymKey({
    dataDir: config.dataDir,
    env: { SIEVERT_PSEUDONYM_KEY: config.pseudonymKey, DATABASE_URL: config.databaseUrl },
  });
  const schema = config.dbSchema === undefined ? {} : { schema: config.dbSchema }; // SIEVERT_DB_SCHEMA
  const opened = config.databaseUrl
    ? await openDatabase({ databaseUrl: config.databaseUrl, ...schema })
    : await openDatabase({ dataDir: join(config.dataDir, "pg"), ...schema });
  return { ...opened, key };
}
